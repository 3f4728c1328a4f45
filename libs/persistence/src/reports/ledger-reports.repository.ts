import { DomainError } from '../../../domain/src';
import type { Database } from '../database';
import * as SQL from './ledger-reports.sql';

/** One entry of a statement, from the resident's side. */
export interface StatementLine {
  entryId: string;
  at: string;
  kind: string;
  source: string;
  /** What the entry did to the spendable balance (+ in, - out; 0 for pending and void). */
  amount: number;
  /** What it did to the pending points. */
  pendingChange: number;
  balanceAfter: number | null;
  /** The other account: issuance / supermarket / expiry of the community, or another resident. */
  counterparty: string;
  reason: string | null;
  pendingEntryId: string | null;
  reversesEntryId: string | null;
}

export interface Statement {
  resident: { id: string; communityId: string; name: string; household: string | null; building: string | null };
  from: string;
  to: string;
  openingBalance: number;
  openingPendingPoints: number;
  lines: StatementLine[];
  closingBalance: number;
  closingPendingPoints: number;
  /** The resident's balance and pending points now (the period may end in the past). */
  currentBalance: number;
  currentPendingPoints: number;
}

/** The movements of a period; opening + earned - redeemed - giftedOut + giftedIn - expired + adjustments = closing. */
export interface Movements {
  opening: number;
  earned: number;
  redeemed: number;
  giftedOut: number;
  giftedIn: number;
  expired: number;
  adjustments: number;
  closing: number;
  openingPending: number;
  pendingAdded: number;
  pendingSettled: number;
  pendingVoided: number;
  closingPending: number;
  entries: number;
}

export interface ResidentReconciliation extends Movements {
  residentId: string;
  name: string;
  household: string | null;
  building: string | null;
  /** The resident row now. */
  balance: number;
  pendingPoints: number;
  /** Empty when every check holds; else each check that failed, in words. */
  problems: string[];
}

export interface EventCount {
  result: string;
  reason: string | null;
  count: number;
  points: number;
}

export interface Reconciliation {
  communityId: string;
  communityName: string;
  from: string;
  to: string;
  ok: boolean;
  residents: ResidentReconciliation[];
  total: Movements & { residents: number; residentsWithProblems: number };
  /** The community's device events received in the period, by result and reason. */
  events: EventCount[];
  eventsTotal: number;
}

export interface LeaderboardRow {
  rank: number;
  id: string;
  name: string;
  points: number;
  household?: string | null;
  building?: string | null;
  residents?: number;
}

export interface Leaderboards {
  communityId: string;
  from: string;
  to: string;
  limit: number;
  residents: LeaderboardRow[];
  households: LeaderboardRow[];
  buildings: LeaderboardRow[];
}

type Num = string | number;
const n = (v: Num | null | undefined): number => (v === null || v === undefined ? 0 : Number(v));

interface ReconciliationRow {
  resident_id: string;
  name: string;
  household: string | null;
  building: string | null;
  balance: number;
  pending_points: number;
  opening: Num;
  opening_pending: Num;
  closing: Num;
  closing_pending: Num;
  ledger_balance: Num;
  ledger_pending: Num;
  earned: Num;
  redeemed: Num;
  gifted_out: Num;
  gifted_in: Num;
  expired: Num;
  adjustments: Num;
  pending_added: Num;
  pending_settled: Num;
  pending_voided: Num;
  entries: Num;
  stored_opening: number | null;
  stored_closing: number | null;
}

const MOVEMENT_KEYS = [
  'opening',
  'earned',
  'redeemed',
  'giftedOut',
  'giftedIn',
  'expired',
  'adjustments',
  'closing',
  'openingPending',
  'pendingAdded',
  'pendingSettled',
  'pendingVoided',
  'closingPending',
  'entries',
] as const;

function iso(d: Date | string): string {
  return new Date(d).toISOString();
}

function checkPeriod(from: Date, to: Date): void {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new DomainError('validation-failed', 'from and to must be dates');
  if (from.getTime() >= to.getTime()) throw new DomainError('validation-failed', 'from must be before to');
}

/**
 * Statements, the quarterly reconciliation and leaderboards, read from the
 * ledger with hand-written SQL. Reports over a community aggregate in SQL
 * (GROUP BY resident): memory is one row per resident, whatever the number of
 * entries. Periods are half-open, [from, to), on the entries' created_at.
 */
export class LedgerReportsRepository {
  constructor(private readonly db: Database) {}

  async statement(residentId: string, from: Date, to: Date): Promise<Statement> {
    checkPeriod(from, to);
    return this.db.transaction(async (q) => {
      const [r] = await q<{
        id: string;
        community_id: string;
        name: string;
        balance: number;
        pending_points: number;
        household: string | null;
        building: string | null;
      }>(SQL.RESIDENT, [residentId]);
      if (!r) throw new DomainError('not-found', `no resident with id ${residentId}`);
      const [opening] = await q<{ balance: Num; pending: Num }>(SQL.RESIDENT_OPENING, [residentId, from.toISOString()]);
      const rows = await q<{
        id: string;
        kind: string;
        source: string;
        dir: number;
        amount: number;
        other: string;
        balance_after: number | null;
        created_at: Date | string;
        reason: string | null;
        pending_entry_id: string | null;
        reverses_entry_id: string | null;
      }>(SQL.RESIDENT_PERIOD, [residentId, from.toISOString(), to.toISOString()]);
      let balance = n(opening?.balance);
      let pending = n(opening?.pending);
      const openingBalance = balance;
      const openingPendingPoints = pending;
      const lines = rows.map((row): StatementLine => {
        const amount = row.kind === 'posted' ? row.dir * row.amount : row.kind === 'settle' ? row.amount : 0;
        const pendingChange = row.kind === 'pending' ? row.amount : row.kind === 'settle' || row.kind === 'void' ? -row.amount : 0;
        balance += amount;
        pending += pendingChange;
        return {
          entryId: row.id,
          at: iso(row.created_at),
          kind: row.kind,
          source: row.source,
          amount,
          pendingChange,
          balanceAfter: row.balance_after,
          counterparty: row.other,
          reason: row.reason,
          pendingEntryId: row.pending_entry_id,
          reversesEntryId: row.reverses_entry_id,
        };
      });
      return {
        resident: { id: r.id, communityId: r.community_id, name: r.name, household: r.household, building: r.building },
        from: from.toISOString(),
        to: to.toISOString(),
        openingBalance,
        openingPendingPoints,
        lines,
        closingBalance: balance,
        closingPendingPoints: pending,
        currentBalance: r.balance,
        currentPendingPoints: r.pending_points,
      };
    });
  }

  /**
   * Per resident and in total: opening + earned - redeemed - gifted out +
   * gifted in - expired + adjustments = closing. Opening and closing are
   * recomputed from the entries and checked against the balance-after stored on
   * each resident's last entry before `from` / `to`; the sum of all entries is
   * checked against the resident row's balance and pending points. Every
   * resident failing a check is listed with the problem.
   */
  async reconciliation(communityId: string, from: Date, to: Date): Promise<Reconciliation> {
    checkPeriod(from, to);
    const params = [communityId, from.toISOString(), to.toISOString()];
    const { community, rows, events } = await this.db.transaction(
      async (q) => {
        const [c] = await q<{ id: string; name: string }>('SELECT id, name FROM community WHERE id = $1::uuid', [communityId]);
        return {
          community: c,
          rows: c ? await q<ReconciliationRow>(SQL.RECONCILIATION, params) : [],
          events: c ? await q<{ result: string; reason: string | null; count: Num; points: Num }>(SQL.EVENT_COUNTS, params) : [],
        };
      },
      { scans: true },
    ); // aggregates over the whole community: sequential scans welcome
    if (!community) throw new DomainError('not-found', `no community with id ${communityId}`);

    const total = Object.fromEntries(MOVEMENT_KEYS.map((k) => [k, 0])) as unknown as Movements;
    let residentsWithProblems = 0;
    const residents = rows.map((row): ResidentReconciliation => {
      const m: Movements = {
        opening: n(row.opening),
        earned: n(row.earned),
        redeemed: n(row.redeemed),
        giftedOut: n(row.gifted_out),
        giftedIn: n(row.gifted_in),
        expired: n(row.expired),
        adjustments: n(row.adjustments),
        closing: n(row.closing),
        openingPending: n(row.opening_pending),
        pendingAdded: n(row.pending_added),
        pendingSettled: n(row.pending_settled),
        pendingVoided: n(row.pending_voided),
        closingPending: n(row.closing_pending),
        entries: n(row.entries),
      };
      const problems = checkMovements(m);
      if (row.stored_opening !== null && row.stored_opening !== m.opening) {
        problems.push(`opening: the ledger adds up to ${m.opening}, the last entry before the period says ${row.stored_opening}`);
      }
      if (row.stored_closing !== null && row.stored_closing !== m.closing) {
        problems.push(`closing: the ledger adds up to ${m.closing}, the last entry of the period says ${row.stored_closing}`);
      }
      if (n(row.ledger_balance) !== row.balance || n(row.ledger_pending) !== row.pending_points) {
        problems.push(
          `the resident's points are ${row.balance} (${row.pending_points} pending); ` +
            `the ledger adds up to ${n(row.ledger_balance)} (${n(row.ledger_pending)} pending)`,
        );
      }
      if (problems.length > 0) residentsWithProblems++;
      for (const k of MOVEMENT_KEYS) total[k] += m[k];
      return {
        residentId: row.resident_id,
        name: row.name,
        household: row.household,
        building: row.building,
        ...m,
        balance: row.balance,
        pendingPoints: row.pending_points,
        problems,
      };
    });
    const totalProblems = checkMovements(total);
    const eventCounts = events.map((e) => ({ result: e.result, reason: e.reason, count: n(e.count), points: n(e.points) }));
    return {
      communityId,
      communityName: community.name,
      from: from.toISOString(),
      to: to.toISOString(),
      ok: residentsWithProblems === 0 && totalProblems.length === 0,
      residents,
      total: { ...total, residents: residents.length, residentsWithProblems },
      events: eventCounts,
      eventsTotal: eventCounts.reduce((sum, e) => sum + e.count, 0),
    };
  }

  /**
   * Top residents, households and buildings by points earned in the period:
   * credits from the community's issuance account (posted or settled; device
   * events, activities, manual credits, openings) less reversals of them. A
   * household or building counts its current residents. Ties: more points
   * first, then the smaller id (stable across calls).
   */
  async leaderboards(communityId: string, from: Date, to: Date, limit: number): Promise<Leaderboards> {
    checkPeriod(from, to);
    const params = [communityId, from.toISOString(), to.toISOString(), String(limit)];
    const ranked = <R extends { points: Num }>(rows: R[]) => rows.map((r, i) => ({ ...r, rank: i + 1, points: n(r.points) }));
    return this.db.transaction(
      async (q) => {
        const [c] = await q<{ id: string }>('SELECT id FROM community WHERE id = $1::uuid', [communityId]);
        if (!c) throw new DomainError('not-found', `no community with id ${communityId}`);
        const [boards] = await q<{
          residents: { id: string; name: string; household: string | null; points: Num }[];
          households: { id: string; name: string; building: string | null; points: Num; residents: number }[];
          buildings: { id: string; name: string; points: Num; residents: number }[];
        }>(SQL.LEADERBOARDS, params);
        const { residents, households, buildings } = boards!;
        return {
          communityId,
          from: from.toISOString(),
          to: to.toISOString(),
          limit,
          residents: ranked(residents),
          households: ranked(households),
          buildings: ranked(buildings),
        };
      },
      { scans: true },
    ); // aggregates over the whole community: sequential scans welcome
  }
}

/** The equation of balance and of pending points. */
function checkMovements(m: Movements): string[] {
  const problems: string[] = [];
  const computed = m.opening + m.earned - m.redeemed - m.giftedOut + m.giftedIn - m.expired + m.adjustments;
  if (computed !== m.closing) {
    problems.push(
      `opening ${m.opening} + earned ${m.earned} - redeemed ${m.redeemed} - gifted out ${m.giftedOut} + gifted in ${m.giftedIn} ` +
        `- expired ${m.expired} + adjustments ${m.adjustments} = ${computed}, not the closing ${m.closing}`,
    );
  }
  const pending = m.openingPending + m.pendingAdded - m.pendingSettled - m.pendingVoided;
  if (pending !== m.closingPending) {
    problems.push(
      `pending: ${m.openingPending} + ${m.pendingAdded} - ${m.pendingSettled} - ${m.pendingVoided} = ${pending}, not ${m.closingPending}`,
    );
  }
  return problems;
}
