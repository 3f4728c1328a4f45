import type { DepositEvent } from '../../../protocol/src';
import {
  type DepositPointsPerUnit,
  DomainError,
  GENESIS_HASH,
  type LedgerEntryDraft,
  type LedgerKind,
  type LedgerSource,
  accountName,
  entryHash,
  judgeDeposit,
  parseAccount,
  residentAccount,
  residentIdOf,
  systemAccount,
} from '../../../domain/src';
import type { Database, SqlQuery } from '../database';
import { RunningTallies, readRules, rulesAt } from '../ingest/deposit-rules';
import { UPSERT_TALLIES } from '../ingest/ingest.sql';
import { appendEntries, lockChainHeads, lockResidents } from './append-entries';

/** A posted entry as the API shows it. */
export interface PostedEntry {
  id: string;
  communityId: string;
  chainSeq: string;
  kind: LedgerKind;
  debitAccount: string;
  creditAccount: string;
  amount: number;
  debitBalanceAfter: number | null;
  creditBalanceAfter: number | null;
  source: LedgerSource;
  pendingEntryId: string | null;
  reversesEntryId: string | null;
  idempotencyKey: string;
  actor: string;
  reason: string | null;
  createdAt: Date;
  hash: string;
}

export interface PostResult {
  entries: PostedEntry[];
  /** True when every idempotency key was already posted: nothing new was written. */
  isReplay: boolean;
}

/** The first entry (or balance) that does not match what the chain says. */
export interface VerifyMismatch {
  communityId: string;
  chainSeq: string | null;
  entryId: string | null;
  residentId: string | null;
  problem: string;
}

export interface VerifyReport {
  ok: boolean;
  communities: number;
  entriesChecked: number;
  residentsChecked: number;
  firstMismatch: VerifyMismatch | null;
  seconds: number;
}

interface EntryRow {
  id: string;
  community_id: string;
  chain_seq: string;
  kind: LedgerKind;
  debit_account: string;
  credit_account: string;
  debit_resident_id: string | null;
  credit_resident_id: string | null;
  amount: number;
  debit_balance_after: number | null;
  credit_balance_after: number | null;
  source: LedgerSource;
  pending_entry_id: string | null;
  reverses_entry_id: string | null;
  idempotency_key: string;
  actor: string;
  reason: string | null;
  created_at: Date | string;
  prev_hash: string;
  hash: string;
}

const SELECT_ENTRY = `SELECT id::text AS id, community_id, chain_seq::text AS chain_seq, kind::text AS kind, debit_account, credit_account,
  debit_resident_id, credit_resident_id, amount, debit_balance_after, credit_balance_after, source::text AS source,
  pending_entry_id::text AS pending_entry_id, reverses_entry_id::text AS reverses_entry_id, idempotency_key, actor, reason,
  created_at, prev_hash, hash FROM ledger_entry`;

const ENTRIES_BY_ID = `${SELECT_ENTRY} WHERE id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::bigint)) ORDER BY ledger_entry.id`;
const ENTRIES_BY_KEY = `${SELECT_ENTRY} WHERE idempotency_key = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb))) ORDER BY ledger_entry.id`;
/** $1 community, $2 after this chain_seq, $3 page size. ORDER BY names the columns: the output's id and chain_seq are text ("10" < "9"). */
const CHAIN_PAGE = `${SELECT_ENTRY} WHERE community_id = $1::uuid AND chain_seq > $2::bigint ORDER BY ledger_entry.chain_seq LIMIT $3::integer`;
/** Entries that close ($1: entry ids) or reverse an entry. */
const CLOSERS = `SELECT id::text AS id, pending_entry_id::text AS pending_entry_id, reverses_entry_id::text AS reverses_entry_id
  FROM ledger_entry
  WHERE pending_entry_id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::bigint))
     OR reverses_entry_id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::bigint))`;
const RESIDENT_COMMUNITY = `SELECT id, community_id FROM resident WHERE id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::uuid))`;

/** Pending entries not yet settled or voided: the review queue. $1 community, $2 limit. */
const OPEN_PENDING = `${SELECT_ENTRY} p WHERE p.community_id = $1::uuid AND p.kind = 'pending'
  AND NOT EXISTS (SELECT 1 FROM ledger_entry c WHERE c.pending_entry_id = p.id) ORDER BY p.id LIMIT $2::integer`;

/**
 * Deposits held for an unknown card (result pending, not claimed) that this card
 * made in the resident's community within the community's claim window.
 * $1 uid, $2 resident id.
 */
const HELD_DEPOSITS = `
SELECT e.id::text AS id, e.device_id, e.event_id, e.points, d.community_id, e.occurred_at, e.payload, e.rule_version,
       c.timezone, c.deposit_points_per_unit
FROM device_event e
JOIN device d ON d.id = e.device_id
JOIN resident r ON r.id = $2::uuid AND r.community_id = d.community_id
JOIN community c ON c.id = d.community_id
WHERE e.card_uid = $1 AND e.result = 'pending' AND e.reason = 'unknown-card' AND e.claimed_at IS NULL
  AND e.received_at >= now() - make_interval(days => c.claim_window_days)
ORDER BY e.occurred_at, e.id
FOR UPDATE OF e`;
interface HeldDepositRow {
  id: string;
  device_id: string;
  event_id: string;
  points: number;
  community_id: string;
  occurred_at: Date | string;
  payload: DepositEvent;
  rule_version: number | null;
  timezone: string;
  deposit_points_per_unit: Partial<DepositPointsPerUnit>;
}

/**
 * What each held deposit earns now for this resident, in the order they
 * happened: judged by the rules version that judged it on arrival, against the
 * resident's day and month tallies at its time, which it then advances (the
 * batteries count even when the points are capped). One whose count and weight
 * disagree goes to the review queue (pending), as it would have with a known
 * card. Writes the tallies back.
 */
async function capHeldDeposits(
  query: SqlQuery,
  residentId: string,
  held: HeldDepositRow[],
): Promise<{ row: HeldDepositRow; points: number; review: string | null }[]> {
  const community = held[0]!.community_id;
  const versions = (await readRules(query, [community])).get(community) ?? [];
  const tallies = new RunningTallies();
  const periods = held.map((h) => RunningTallies.periodsOf(new Date(h.occurred_at), h.timezone));
  await tallies.load(
    query,
    periods.map((p) => ({ residentId, ...p })),
  );
  const claims = held.map((row, i) => {
    const { day, month } = periods[i]!;
    const version = versions.find((v) => v.version === row.rule_version);
    const rules = version?.rules ?? rulesAt(versions, row.deposit_points_per_unit, new Date(row.occurred_at)).rules;
    const judged = judgeDeposit(rules, row.payload, tallies.get(residentId, day, month));
    // Never more than was held (and shown to the resident) at arrival.
    const points = Math.min(judged.points, row.points);
    tallies.add(residentId, day, month, points, judged.batteries);
    return { row, points, review: judged.review };
  });
  await query(UPSERT_TALLIES, [JSON.stringify(tallies.rows())]);
  return claims;
}

const MARK_CLAIMED = `UPDATE device_event SET claimed_at = now(), resident_id = $2::uuid
  WHERE id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::bigint))`;

const VERIFY_PAGE = 5000;

/**
 * Staff of one community may post and read only there (`scope`: their community;
 * null or absent for district staff). Checked inside the transaction, on the rows
 * the posting is about.
 */
function assertInScope(scope: string | null | undefined, communityId: string): void {
  if (scope && scope !== communityId) {
    throw new DomainError(
      'forbidden',
      '这是另一个社区的积分，您无权操作 / these points belong to another community; ask its staff or a district administrator',
    );
  }
}

function toPosted(r: EntryRow): PostedEntry {
  return {
    id: r.id,
    communityId: r.community_id,
    chainSeq: r.chain_seq,
    kind: r.kind,
    debitAccount: r.debit_account,
    creditAccount: r.credit_account,
    amount: r.amount,
    debitBalanceAfter: r.debit_balance_after,
    creditBalanceAfter: r.credit_balance_after,
    source: r.source,
    pendingEntryId: r.pending_entry_id,
    reversesEntryId: r.reverses_entry_id,
    idempotencyKey: r.idempotency_key,
    actor: r.actor,
    reason: r.reason,
    createdAt: new Date(r.created_at),
    hash: r.hash,
  };
}

/**
 * The staff-facing ledger: manual credits, pending review, reversals, and the
 * posting primitive other features (supermarket, gifts, claims, expiry) use.
 * Every write is one transaction that locks chain heads then residents
 * (append-entries.ts), so a posting is whole or absent, and a retried call with
 * the same idempotency key returns the first result instead of posting again.
 */
/** What binding a card claimed: deposits credited (and their points) and points held for review. */
export interface HeldDepositClaim {
  claimed: number;
  points: number;
  pendingPoints: number;
}

export class LedgerRepository {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Posts drafts atomically (createdAt is set here). All keys already posted:
   * returns those entries (a replay). Some but not all: refused.
   */
  async post(drafts: readonly Omit<LedgerEntryDraft, 'createdAt'>[]): Promise<PostResult> {
    if (drafts.length === 0) return { entries: [], isReplay: false };
    const result = await this.db.transaction((query) => this.postIn(query, drafts));
    await this.db.makeDurable();
    return result;
  }

  /** The same as post(), inside a caller's transaction (a redemption writes its order in the same one). */
  async postIn(query: SqlQuery, drafts: readonly Omit<LedgerEntryDraft, 'createdAt'>[]): Promise<PostResult> {
    const keys = drafts.map((d) => d.idempotencyKey);
    if (new Set(keys).size !== keys.length) throw new Error('two entries of one posting share an idempotency key');
    const existing = await query<EntryRow>(ENTRIES_BY_KEY, [JSON.stringify(keys)]);
    if (existing.length === keys.length) return { entries: existing.map(toPosted), isReplay: true };
    if (existing.length > 0) {
      throw new DomainError('conflict', `idempotency key ${existing[0]!.idempotency_key} was already used for another posting`);
    }
    const createdAt = new Date(this.now());
    const { ids } = await appendEntries(
      query,
      drafts.map((d) => ({ ...d, createdAt })),
    );
    const written = await query<EntryRow>(ENTRIES_BY_ID, [JSON.stringify(ids)]);
    return { entries: written.map(toPosted), isReplay: false };
  }

  /** A credit administrator's or collector's manual credit from the community's issuance account. */
  async credit(input: {
    residentId: string;
    amount: number;
    reason: string;
    actor: string;
    idempotencyKey: string;
    source?: Extract<LedgerSource, 'manual' | 'activity' | 'opening'>;
    /** Pending: shown to the resident, spendable only once a credit administrator settles it. */
    isPending?: boolean;
    scope?: string | null;
  }): Promise<PostResult> {
    // The resident's community is read in the posting's own transaction.
    const result = await this.db.transaction(async (query) => {
      const [resident] = await query<{ community_id: string }>(RESIDENT_COMMUNITY, [JSON.stringify([input.residentId])]);
      if (!resident) throw new DomainError('not-found', `no resident with id ${input.residentId}`);
      const communityId = resident.community_id;
      assertInScope(input.scope, communityId);
      return this.postIn(query, [
        {
          communityId,
          kind: input.isPending ? 'pending' : 'posted',
          debitAccount: accountName(systemAccount('issuance', communityId)),
          creditAccount: accountName(residentAccount(input.residentId)),
          amount: input.amount,
          source: input.source ?? 'manual',
          pendingEntryId: null,
          reversesEntryId: null,
          idempotencyKey: input.idempotencyKey,
          actor: input.actor,
          reason: input.reason,
        },
      ]);
    });
    await this.db.makeDurable();
    return result;
  }

  /**
   * Settles (posts) or voids pending entries, one or many, in one transaction.
   * An entry that is not pending, or already closed, fails the whole call with
   * its id named; nothing is written.
   */
  async closePending(input: {
    entryIds: string[];
    action: 'settle' | 'void';
    reason: string;
    actor: string;
    scope?: string | null;
  }): Promise<PostResult> {
    const result = await this.db.transaction(async (query) => {
      const ids = [...new Set(input.entryIds)];
      const pending = await query<EntryRow>(ENTRIES_BY_ID, [JSON.stringify(ids)]);
      const found = new Map(pending.map((p) => [p.id, p]));
      const missing = ids.find((id) => !found.has(id));
      if (missing) throw new DomainError('not-found', `no ledger entry ${missing}`);
      for (const p of pending) assertInScope(input.scope, p.community_id);
      const notPending = pending.find((p) => p.kind !== 'pending');
      if (notPending) throw new DomainError('conflict', `ledger entry ${notPending.id} is ${notPending.kind}, not pending`);
      const closers = await query<{ id: string; pending_entry_id: string | null }>(CLOSERS, [JSON.stringify(ids)]);
      const closed = closers.find((c) => c.pending_entry_id !== null);
      if (closed) {
        throw new DomainError(
          'already-closed',
          `pending entry ${closed.pending_entry_id} was already settled or voided (entry ${closed.id})`,
        );
      }
      return this.postIn(
        query,
        pending.map((p) => ({
          communityId: p.community_id,
          kind: input.action,
          debitAccount: p.debit_account,
          creditAccount: p.credit_account,
          amount: p.amount,
          source: p.source,
          pendingEntryId: p.id,
          reversesEntryId: null,
          idempotencyKey: `${input.action}:${p.id}`,
          actor: input.actor,
          reason: input.reason,
        })),
      );
    });
    await this.db.makeDurable();
    return result;
  }

  /**
   * Reverses a posted or settled entry with an entry the other way that points at
   * it. Refused: reversing twice, reversing a reversal, pending entries (void
   * them), and a reversal that would take a resident below zero.
   */
  async reverse(input: { entryId: string; reason: string; actor: string; scope?: string | null }): Promise<PostResult> {
    const result = await this.db.transaction(async (query) => {
      const [original] = await query<EntryRow>(ENTRIES_BY_ID, [JSON.stringify([input.entryId])]);
      if (!original) throw new DomainError('not-found', `no ledger entry ${input.entryId}`);
      assertInScope(input.scope, original.community_id);
      if (original.kind !== 'posted' && original.kind !== 'settle') {
        throw new DomainError(
          'conflict',
          `entry ${original.id} is ${original.kind}: only posted points can be reversed (void a pending entry)`,
        );
      }
      if (original.reverses_entry_id !== null) {
        throw new DomainError('conflict', `entry ${original.id} is itself a reversal; post a new entry instead`);
      }
      const closers = await query<{ id: string; reverses_entry_id: string | null }>(CLOSERS, [JSON.stringify([original.id])]);
      const reversal = closers.find((c) => c.reverses_entry_id !== null);
      if (reversal) throw new DomainError('already-reversed', `entry ${original.id} was already reversed by entry ${reversal.id}`);
      return this.postIn(query, [
        {
          communityId: original.community_id,
          kind: 'posted',
          debitAccount: original.credit_account,
          creditAccount: original.debit_account,
          amount: original.amount,
          source: 'reversal',
          pendingEntryId: null,
          reversesEntryId: original.id,
          idempotencyKey: `reversal:${original.id}`,
          actor: input.actor,
          reason: input.reason,
        },
      ]);
    });
    await this.db.makeDurable();
    return result;
  }

  /** The review queue of a community: pending entries still open, oldest first. */
  async listPending(communityId: string, limit: number): Promise<PostedEntry[]> {
    const rows = await this.db.transaction((q) => q<EntryRow>(OPEN_PENDING, [communityId, String(limit)]));
    return rows.map(toPosted);
  }

  /**
   * Credits the deposits an unknown card made, now that it is bound to this
   * resident: each once (the event is marked claimed and the entry's idempotency
   * key names it), only within the community's claim window, only deposits in
   * the resident's own community.
   */
  async claimHeldDeposits(input: { uid: string; residentId: string; actor: string }): Promise<HeldDepositClaim> {
    const result = await this.db.transaction(async (query) => {
      const held = await query<HeldDepositRow>(HELD_DEPOSITS, [input.uid, input.residentId]);
      if (held.length === 0) return { claimed: 0, points: 0, pendingPoints: 0 };
      // The resident's caps apply as if the card had been known at the time:
      // an unregistered card is no way round the daily limit. Lock order as
      // everywhere: chain head, then the resident; then their tallies.
      await lockChainHeads(query, [held[0]!.community_id]);
      await lockResidents(query, [input.residentId]);
      const claims = await capHeldDeposits(query, input.residentId, held);
      const worth = claims.filter((c) => c.points > 0);
      if (worth.length > 0) {
        await this.postIn(
          query,
          worth.map(({ row, points, review }) => ({
            communityId: row.community_id,
            // Count and weight disagreed: it waits for review, as it would have with a known card.
            kind: review === null ? ('posted' as const) : ('pending' as const),
            debitAccount: accountName(systemAccount('issuance', row.community_id)),
            creditAccount: accountName(residentAccount(input.residentId)),
            amount: points,
            source: 'device_event' as const,
            pendingEntryId: null,
            reversesEntryId: null,
            idempotencyKey: `device-event:${row.device_id}:${row.event_id}`,
            actor: input.actor,
            reason:
              review ??
              (points < row.points
                ? `deposit held for card ${input.uid} until it was bound; held to the cap: ${points} of ${row.points}`
                : `deposit held for card ${input.uid} until it was bound`),
          })),
        );
      }
      await query(MARK_CLAIMED, [JSON.stringify(held.map((h) => h.id)), input.residentId]);
      const sum = (claims: typeof worth) => claims.reduce((total, c) => total + c.points, 0);
      return {
        claimed: worth.length,
        points: sum(worth.filter((c) => c.review === null)),
        pendingPoints: sum(worth.filter((c) => c.review !== null)),
      };
    });
    if (result.claimed > 0) await this.db.makeDurable();
    return result;
  }

  async find(entryId: string, scope?: string | null): Promise<PostedEntry | null> {
    const [row] = await this.db.transaction((query) => query<EntryRow>(ENTRIES_BY_ID, [JSON.stringify([entryId])]));
    if (row) assertInScope(scope, row.community_id);
    return row ? toPosted(row) : null;
  }

  /**
   * Recomputes every community's chain (each hash from the previous one and the
   * entry's content) and every resident's points from the entries, page by page
   * (memory: one page and one number pair per resident), and compares them with
   * the stored hashes, balances-after, chain heads and resident rows. Names the
   * first thing that does not match.
   */
  async verify(options: { communityId?: string; onProgress?: (entries: number) => void } = {}): Promise<VerifyReport> {
    const started = performance.now();
    const communities = options.communityId
      ? [options.communityId]
      : (await this.db.transaction((q) => q<{ id: string }>('SELECT id FROM community ORDER BY id'))).map((c) => c.id);
    let entriesChecked = 0;
    let residentsChecked = 0;
    const report = (firstMismatch: VerifyMismatch | null): VerifyReport => ({
      ok: firstMismatch === null,
      communities: communities.length,
      entriesChecked,
      residentsChecked,
      firstMismatch,
      seconds: (performance.now() - started) / 1000,
    });

    for (const communityId of communities) {
      const points = new Map<string, { balance: number; pendingPoints: number }>();
      const of = (id: string) => {
        let p = points.get(id);
        if (!p) points.set(id, (p = { balance: 0, pendingPoints: 0 }));
        return p;
      };
      let seq = 0n;
      let prevHash = GENESIS_HASH;
      for (;;) {
        const page = await this.db.transaction((q) => q<EntryRow>(CHAIN_PAGE, [communityId, seq.toString(), String(VERIFY_PAGE)]));
        if (page.length === 0) {
          // Caught up: compare heads and residents in one snapshot; if entries
          // arrived meanwhile, walk them first.
          const mismatch = await this.db.transaction(async (q) => {
            const [head] = await q<{ chain_seq: string; hash: string }>(
              'SELECT chain_seq::text AS chain_seq, hash FROM ledger_chain_head WHERE community_id = $1::uuid',
              [communityId],
            );
            if (head && BigInt(head.chain_seq) > seq) return 'moved' as const;
            if (!head || BigInt(head.chain_seq) !== seq || head.hash !== prevHash) {
              return {
                communityId,
                chainSeq: seq.toString(),
                entryId: null,
                residentId: null,
                problem: 'the chain head does not match the last entry',
              };
            }
            const residents = await q<{ id: string; balance: number; pending_points: number }>(
              'SELECT id, balance, pending_points FROM resident WHERE community_id = $1::uuid ORDER BY id',
              [communityId],
            );
            for (const r of residents) {
              residentsChecked++;
              const expected = points.get(r.id) ?? { balance: 0, pendingPoints: 0 };
              if (r.balance !== expected.balance || r.pending_points !== expected.pendingPoints) {
                return {
                  communityId,
                  chainSeq: null,
                  entryId: null,
                  residentId: r.id,
                  problem: `resident's points are ${r.balance} (${r.pending_points} pending); the ledger adds up to ${expected.balance} (${expected.pendingPoints} pending)`,
                };
              }
            }
            return null;
          });
          if (mismatch === 'moved') continue;
          if (mismatch) return report(mismatch);
          break;
        }
        for (const row of page) {
          const at = (problem: string): VerifyMismatch => ({
            communityId,
            chainSeq: row.chain_seq,
            entryId: row.id,
            residentId: null,
            problem,
          });
          if (BigInt(row.chain_seq) !== seq + 1n) return report(at(`chain position ${row.chain_seq} follows ${seq}: an entry is missing`));
          if (row.prev_hash !== prevHash) return report(at('prev_hash is not the hash of the entry before'));
          const hash = entryHash(prevHash, {
            communityId: row.community_id,
            chainSeq: BigInt(row.chain_seq),
            kind: row.kind,
            debitAccount: row.debit_account,
            creditAccount: row.credit_account,
            amount: row.amount,
            source: row.source,
            pendingEntryId: row.pending_entry_id,
            reversesEntryId: row.reverses_entry_id,
            idempotencyKey: row.idempotency_key,
            actor: row.actor,
            reason: row.reason,
            createdAt: new Date(row.created_at),
            debitBalanceAfter: row.debit_balance_after,
            creditBalanceAfter: row.credit_balance_after,
          });
          if (hash !== row.hash) return report(at('the entry was changed after it was written: its content does not match its hash'));
          const debitId = residentIdOf(parseAccount(row.debit_account));
          const creditId = residentIdOf(parseAccount(row.credit_account));
          if (debitId !== row.debit_resident_id || creditId !== row.credit_resident_id) {
            return report(at('the resident columns do not match the accounts'));
          }
          if (row.kind === 'posted' || row.kind === 'settle') {
            if (debitId && row.kind === 'posted') of(debitId).balance -= row.amount;
            if (creditId) {
              of(creditId).balance += row.amount;
              if (row.kind === 'settle') of(creditId).pendingPoints -= row.amount;
            }
          } else if (creditId) {
            of(creditId).pendingPoints += row.kind === 'pending' ? row.amount : -row.amount;
          }
          if (debitId && of(debitId).balance !== row.debit_balance_after) {
            return report({
              ...at(`balance after should be ${of(debitId).balance}, the entry says ${row.debit_balance_after}`),
              residentId: debitId,
            });
          }
          if (creditId && of(creditId).balance !== row.credit_balance_after) {
            return report({
              ...at(`balance after should be ${of(creditId).balance}, the entry says ${row.credit_balance_after}`),
              residentId: creditId,
            });
          }
          seq = BigInt(row.chain_seq);
          prevHash = row.hash;
          entriesChecked++;
        }
        options.onProgress?.(entriesChecked);
      }
    }
    return report(null);
  }
}
