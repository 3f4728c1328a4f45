import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client';
import { CardRepository, type CardChangeResult } from './card.repository';

export interface ResidentRecord {
  id: string;
  communityId: string;
  name: string;
  balance: number;
  /** Credits waiting for review: shown, not spendable. */
  pendingPoints: number;
  /** The community's register number (编号), set by a CSV import or at registration. */
  externalRef: string | null;
  phone: string | null;
  /** Where the resident lives now; households and buildings roll up points. */
  householdId: string | null;
  householdName: string | null;
  buildingId: string | null;
  buildingName: string | null;
  /** The uids of the resident's active cards (lost, replaced and unbound ones are in /cards). */
  cards: string[];
  createdAt: Date;
}

export interface CreateResidentInput {
  communityId: string;
  name: string;
  /** Must be a household of the same community (the caller checks). */
  householdId?: string | null;
  externalRef?: string | null;
  phone?: string | null;
  /** Who registers the resident: the residence row records it. */
  actor?: string;
}

export interface ResidentListOptions {
  limit: number;
  /** Residents after this id (ids are ordered): the next page. */
  after?: string;
}

export interface LedgerEntryRecord {
  id: string;
  /** posted, pending (shown, not spendable), settle or void (closing a pending entry). */
  kind: string;
  /** Signed from the resident's side: positive in, negative out. */
  amount: number;
  /** The resident's posted balance after the entry. */
  balanceAfter: number | null;
  /** The other account: issuance:<community>, supermarket:…, resident:… */
  counterparty: string;
  pendingEntryId: string | null;
  reversesEntryId: string | null;
  source: string;
  deviceId: string | null;
  eventId: string | null;
  actor: string;
  reason: string | null;
  idempotencyKey: string;
  createdAt: Date;
}

export type BindCardResult = CardChangeResult;

const withHousehold = {
  household: { select: { name: true, buildingId: true, building: { select: { name: true } } } },
  cards: { where: { status: 'active' }, orderBy: { boundAt: 'asc' }, select: { uid: true } },
} as const;

export class ResidentRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** With a household, the resident's first residence row is opened in the same transaction. */
  async create(input: CreateResidentInput): Promise<ResidentRecord> {
    const id = randomUUID();
    const householdId = input.householdId ?? null;
    const row = await this.prisma.$transaction(async (tx) => {
      await tx.resident.create({
        data: {
          id,
          communityId: input.communityId,
          name: input.name,
          householdId,
          externalRef: input.externalRef ?? null,
          phone: input.phone ?? null,
        },
      });
      if (householdId) {
        await tx.residence.create({ data: { residentId: id, householdId, fromAt: new Date(), actor: input.actor ?? 'system' } });
      }
      return tx.resident.findUniqueOrThrow({ where: { id }, include: withHousehold });
    });
    return toResidentRecord(row);
  }

  async find(id: string): Promise<ResidentRecord | null> {
    const row = await this.prisma.resident.findUnique({ where: { id }, include: withHousehold });
    return row ? toResidentRecord(row) : null;
  }

  async findByExternalRef(communityId: string, externalRef: string): Promise<ResidentRecord | null> {
    const row = await this.prisma.resident.findUnique({
      where: { communityId_externalRef: { communityId, externalRef } },
      include: withHousehold,
    });
    return row ? toResidentRecord(row) : null;
  }

  /** A page of the community's residents, by id. */
  async listByCommunity(communityId: string, options: ResidentListOptions): Promise<{ residents: ResidentRecord[]; total: number }> {
    const [rows, total] = await Promise.all([
      this.prisma.resident.findMany({
        where: { communityId, ...(options.after ? { id: { gt: options.after } } : {}) },
        orderBy: { id: 'asc' },
        take: options.limit,
        include: withHousehold,
      }),
      this.prisma.resident.count({ where: { communityId } }),
    ]);
    return { residents: rows.map(toResidentRecord), total };
  }

  /**
   * Binds a card (the card lifecycle's rules: CardRepository.bind); binding the
   * same card to the same resident again is a no-op.
   */
  async bindCard(residentId: string, uid: string, actor = 'system', reason: string | null = null): Promise<BindCardResult> {
    return new CardRepository(this.prisma).bind(uid, residentId, { actor, reason });
  }

  /** Newest first, with the device event each device credit came from. */
  async ledger(residentId: string, limit: number): Promise<LedgerEntryRecord[]> {
    const rows = await this.prisma.ledgerEntry.findMany({
      where: { OR: [{ creditResidentId: residentId }, { debitResidentId: residentId }] },
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
      const isCredit = r.creditResidentId === residentId;
      return {
        id: r.id.toString(),
        kind: r.kind,
        // From the resident's side: + points in, − points out.
        amount: isCredit ? r.amount : -r.amount,
        balanceAfter: isCredit ? r.creditBalanceAfter : r.debitBalanceAfter,
        counterparty: isCredit ? r.debitAccount : r.creditAccount,
        pendingEntryId: r.pendingEntryId?.toString() ?? null,
        reversesEntryId: r.reversesEntryId?.toString() ?? null,
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

function toResidentRecord(row: {
  id: string;
  communityId: string;
  name: string;
  balance: number;
  pendingPoints: number;
  externalRef: string | null;
  phone: string | null;
  householdId: string | null;
  createdAt: Date;
  household: { name: string; buildingId: string | null; building: { name: string } | null } | null;
  cards: { uid: string }[];
}): ResidentRecord {
  return {
    id: row.id,
    communityId: row.communityId,
    name: row.name,
    balance: row.balance,
    pendingPoints: row.pendingPoints,
    externalRef: row.externalRef,
    phone: row.phone,
    householdId: row.householdId,
    householdName: row.household?.name ?? null,
    buildingId: row.household?.buildingId ?? null,
    buildingName: row.household?.building?.name ?? null,
    cards: row.cards.map((c) => c.uid),
    createdAt: row.createdAt,
  };
}
