import {
  type CardDecision,
  type CardRefusal,
  type CardStatus,
  type StoredCard,
  decideBind,
  decideReplace,
  decideReportLost,
  decideUnbind,
} from '../../../domain/src';
import { Prisma, type PrismaClient } from '../generated/prisma/client';

export interface CardRecord {
  uid: string;
  /** The holder, or the last holder of an unbound card. */
  residentId: string;
  status: CardStatus;
  boundAt: Date;
  statusChangedAt: Date;
  replacedByUid: string | null;
}

export type CardAction = 'bound' | 'reported_lost' | 'replaced' | 'unbound';

export interface CardChangeRecord {
  id: string;
  uid: string;
  residentId: string;
  action: CardAction;
  replacementUid: string | null;
  reason: string | null;
  actor: string;
  at: Date;
}

export interface CardDetails extends CardRecord {
  holder: { residentId: string; communityId: string; name: string };
  /** Oldest first. */
  history: CardChangeRecord[];
}

/** Who changes a card, and why: both go into card_change. */
export interface CardChangeBy {
  actor: string;
  reason?: string | null;
}

export type CardChangeResult =
  | { ok: true; card: CardRecord; isChanged: boolean }
  | { ok: false; error: 'card-not-found' | 'resident-not-found' }
  | ({ ok: false; error: 'refused' } & CardRefusal);

export type CardReplaceResult =
  | { ok: true; card: CardRecord; replacement: CardRecord; isChanged: boolean }
  | { ok: false; error: 'card-not-found' }
  | ({ ok: false; error: 'refused'; uid: string } & CardRefusal);

type Tx = Prisma.TransactionClient;

const isUniqueViolation = (err: unknown) => err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';

/**
 * The card lifecycle (issue #3): bind, report lost, replace, unbind. The rules
 * are libs/domain's card-lifecycle; here each change locks the card row, and
 * writes the card and its card_change row in one transaction.
 */
export class CardRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Binds `uid` to the resident; binding a card the resident already holds changes nothing. */
  async bind(uid: string, residentId: string, by: CardChangeBy): Promise<CardChangeResult> {
    return this.retryOnRace(() =>
      this.prisma.$transaction(async (tx): Promise<CardChangeResult> => {
        const resident = await tx.resident.findUnique({ where: { id: residentId }, select: { id: true } });
        if (!resident) return { ok: false, error: 'resident-not-found' };
        const now = new Date();
        const decision = decideBind(await lockCard(tx, uid), residentId);
        if (decision.kind === 'refused') return refused(decision);
        if (decision.kind === 'unchanged')
          return { ok: true, card: toRecord(await tx.card.findUniqueOrThrow({ where: { uid } })), isChanged: false };
        const card = await bindInTx(tx, uid, residentId, decision.kind, now);
        await tx.cardChange.create({ data: { uid, residentId, action: 'bound', reason: by.reason ?? null, actor: by.actor, at: now } });
        return { ok: true, card, isChanged: true };
      }),
    );
  }

  /** Blocks the card at once: its taps and deposits are refused from now on. */
  async reportLost(uid: string, by: CardChangeBy): Promise<CardChangeResult> {
    return this.changeStatus(uid, by, decideReportLost, 'lost', 'reported_lost');
  }

  /** Frees the uid: anyone may be given the card afterwards. */
  async unbind(uid: string, by: CardChangeBy): Promise<CardChangeResult> {
    return this.changeStatus(uid, by, decideUnbind, 'unbound', 'unbound');
  }

  /** Binds `newUid` to the holder of `oldUid` and retires the old card, atomically. */
  async replace(oldUid: string, newUid: string, by: CardChangeBy): Promise<CardReplaceResult> {
    return this.retryOnRace(() =>
      this.prisma.$transaction(async (tx): Promise<CardReplaceResult> => {
        // Lock in uid order, so two replacements crossing each other cannot deadlock.
        const [first, second] = [oldUid, newUid].sort();
        const locked = new Map([
          [first!, await lockCard(tx, first!)],
          [second!, await lockCard(tx, second!)],
        ]);
        const old = locked.get(oldUid) ?? null;
        if (!old) return { ok: false, error: 'card-not-found' };
        const replacement = locked.get(newUid) ?? null;
        const decision = decideReplace(old, replacement);
        if (decision.kind === 'refused')
          return { ok: false, error: 'refused', uid: decision.code === 'card-already-bound' ? newUid : oldUid, ...refusal(decision) };
        if (decision.kind === 'unchanged') {
          const [card, next] = await Promise.all([
            tx.card.findUniqueOrThrow({ where: { uid: oldUid } }),
            tx.card.findUniqueOrThrow({ where: { uid: newUid } }),
          ]);
          return { ok: true, card: toRecord(card), replacement: toRecord(next), isChanged: false };
        }
        const now = new Date();
        const next = await bindInTx(tx, newUid, old.residentId, replacement ? 'rebind' : 'create', now);
        const card = toRecord(
          await tx.card.update({ where: { uid: oldUid }, data: { status: 'replaced', statusChangedAt: now, replacedByUid: newUid } }),
        );
        const reason = by.reason ?? null;
        await tx.cardChange.createMany({
          data: [
            { uid: oldUid, residentId: old.residentId, action: 'replaced', replacementUid: newUid, reason, actor: by.actor, at: now },
            { uid: newUid, residentId: old.residentId, action: 'bound', reason: reason ?? `replaces ${oldUid}`, actor: by.actor, at: now },
          ],
        });
        return { ok: true, card, replacement: next, isChanged: true };
      }),
    );
  }

  async find(uid: string): Promise<CardDetails | null> {
    const row = await this.prisma.card.findUnique({
      where: { uid },
      include: { resident: { select: { id: true, communityId: true, name: true } } },
    });
    if (!row) return null;
    const history = await this.prisma.cardChange.findMany({ where: { uid }, orderBy: { id: 'asc' } });
    return {
      ...toRecord(row),
      holder: { residentId: row.resident.id, communityId: row.resident.communityId, name: row.resident.name },
      history: history.map(toChangeRecord),
    };
  }

  /** Every card the resident holds or held last, active first, then newest. */
  async listForResident(residentId: string): Promise<CardRecord[]> {
    const rows = await this.prisma.card.findMany({ where: { residentId }, orderBy: [{ statusChangedAt: 'desc' }] });
    const order: Record<CardStatus, number> = { active: 0, lost: 1, replaced: 2, unbound: 3 };
    return rows.map(toRecord).sort((a, b) => order[a.status] - order[b.status]);
  }

  /** Every change of every card the resident was given, oldest first. */
  async historyOfResident(residentId: string): Promise<CardChangeRecord[]> {
    return (await this.prisma.cardChange.findMany({ where: { residentId }, orderBy: { id: 'asc' } })).map(toChangeRecord);
  }

  private async changeStatus(
    uid: string,
    by: CardChangeBy,
    decide: (card: StoredCard) => CardDecision<string>,
    status: CardStatus,
    action: CardAction,
  ): Promise<CardChangeResult> {
    return this.prisma.$transaction(async (tx): Promise<CardChangeResult> => {
      const stored = await lockCard(tx, uid);
      if (!stored) return { ok: false, error: 'card-not-found' };
      const decision = decide(stored);
      if (decision.kind === 'refused') return refused(decision as { kind: 'refused' } & CardRefusal);
      if (decision.kind === 'unchanged')
        return { ok: true, card: toRecord(await tx.card.findUniqueOrThrow({ where: { uid } })), isChanged: false };
      const now = new Date();
      const card = await tx.card.update({ where: { uid }, data: { status, statusChangedAt: now } });
      await tx.cardChange.create({
        data: { uid, residentId: stored.residentId, action, reason: by.reason ?? null, actor: by.actor, at: now },
      });
      return { ok: true, card: toRecord(card), isChanged: true };
    });
  }

  /** Two binds of a new uid at once: the loser's insert fails unique; its second try sees the card. */
  private async retryOnRace<T>(attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return attempt();
    }
  }
}

/** The card row, locked until the transaction ends (null: no such uid). */
export async function lockCard(tx: Tx, uid: string): Promise<StoredCard | null> {
  const rows = await tx.$queryRaw<{ uid: string; resident_id: string; status: CardStatus; replaced_by_uid: string | null }[]>`
    SELECT uid, resident_id::text AS resident_id, status::text AS status, replaced_by_uid FROM card WHERE uid = ${uid} FOR UPDATE`;
  const row = rows[0];
  return row ? { uid: row.uid, residentId: row.resident_id, status: row.status, replacedByUid: row.replaced_by_uid } : null;
}

async function bindInTx(tx: Tx, uid: string, residentId: string, kind: 'create' | 'rebind', now: Date): Promise<CardRecord> {
  const data = { residentId, status: 'active' as const, boundAt: now, statusChangedAt: now, replacedByUid: null };
  const row = kind === 'create' ? await tx.card.create({ data: { uid, ...data } }) : await tx.card.update({ where: { uid }, data });
  return toRecord(row);
}

function refusal(decision: { kind: 'refused' } & CardRefusal): CardRefusal {
  return decision.code === 'card-already-bound'
    ? { code: decision.code, holderId: decision.holderId, status: decision.status }
    : { code: decision.code, status: decision.status };
}

function refused(decision: { kind: 'refused' } & CardRefusal): CardChangeResult {
  return { ok: false, error: 'refused', ...refusal(decision) };
}

function toRecord(row: {
  uid: string;
  residentId: string;
  status: CardStatus;
  boundAt: Date;
  statusChangedAt: Date;
  replacedByUid: string | null;
}): CardRecord {
  return {
    uid: row.uid,
    residentId: row.residentId,
    status: row.status,
    boundAt: row.boundAt,
    statusChangedAt: row.statusChangedAt,
    replacedByUid: row.replacedByUid,
  };
}

function toChangeRecord(row: {
  id: bigint;
  uid: string;
  residentId: string;
  action: CardAction;
  replacementUid: string | null;
  reason: string | null;
  actor: string;
  at: Date;
}): CardChangeRecord {
  return {
    id: row.id.toString(),
    uid: row.uid,
    residentId: row.residentId,
    action: row.action,
    replacementUid: row.replacementUid,
    reason: row.reason,
    actor: row.actor,
    at: row.at,
  };
}
