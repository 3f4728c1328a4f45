import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../generated/prisma/client';

export interface ResidentRecord {
  id: string;
  communityId: string;
  name: string;
  balance: number;
  cards: string[];
  createdAt: Date;
}

export interface LedgerEntryRecord {
  id: string;
  amount: number;
  balanceAfter: number;
  source: string;
  deviceId: string | null;
  eventId: string | null;
  actor: string;
  reason: string | null;
  idempotencyKey: string;
  createdAt: Date;
}

export type BindCardResult =
  | { ok: true; uid: string; residentId: string; boundAt: Date }
  | { ok: false; error: 'bound-to-other'; ownerId: string }
  | { ok: false; error: 'resident-not-found' };

export class ResidentRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(input: { communityId: string; name: string }): Promise<ResidentRecord> {
    const row = await this.prisma.resident.create({ data: { id: randomUUID(), communityId: input.communityId, name: input.name } });
    return { ...row, cards: [] };
  }

  async find(id: string): Promise<ResidentRecord | null> {
    const row = await this.prisma.resident.findUnique({ where: { id }, include: { cards: { orderBy: { boundAt: 'asc' } } } });
    if (!row) return null;
    const { cards, ...rest } = row;
    return { ...rest, cards: cards.map((c) => c.uid) };
  }

  /** Binds a card; binding the same card to the same resident again is a no-op. */
  async bindCard(residentId: string, uid: string): Promise<BindCardResult> {
    const resident = await this.prisma.resident.findUnique({ where: { id: residentId }, select: { id: true } });
    if (!resident) return { ok: false, error: 'resident-not-found' };
    try {
      const card = await this.prisma.card.create({ data: { uid, residentId } });
      return { ok: true, uid: card.uid, residentId, boundAt: card.boundAt };
    } catch (err) {
      if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') throw err;
      const existing = await this.prisma.card.findUniqueOrThrow({ where: { uid } });
      if (existing.residentId === residentId) return { ok: true, uid, residentId, boundAt: existing.boundAt };
      return { ok: false, error: 'bound-to-other', ownerId: existing.residentId };
    }
  }

  /** Newest first, with the device event each device credit came from. */
  async ledger(residentId: string, limit: number): Promise<LedgerEntryRecord[]> {
    const rows = await this.prisma.ledgerEntry.findMany({
      where: { residentId },
      orderBy: { id: 'desc' },
      take: limit,
    });
    const eventIds = rows.flatMap((r) => (r.deviceEventId === null ? [] : [r.deviceEventId]));
    const events = eventIds.length
      ? await this.prisma.deviceEvent.findMany({ where: { id: { in: eventIds } }, select: { id: true, deviceId: true, eventId: true } })
      : [];
    const byId = new Map(events.map((e) => [e.id, e]));
    return rows.map((r) => {
      const ev = r.deviceEventId === null ? undefined : byId.get(r.deviceEventId);
      return {
        id: r.id.toString(),
        amount: r.amount,
        balanceAfter: r.balanceAfter,
        source: r.source,
        deviceId: ev?.deviceId ?? null,
        eventId: ev?.eventId ?? null,
        actor: r.actor,
        reason: r.reason,
        idempotencyKey: r.idempotencyKey,
        createdAt: r.createdAt,
      };
    });
  }
}
