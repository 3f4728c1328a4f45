import { DomainError } from '../../../domain/src';
import type { Database } from '../database';
import * as SQL from './deposit-reports.sql';

export type BatteryKindCounts = Record<(typeof SQL.KIND_COLUMNS)[number], number>;

/** What a group of accepted deposits (credited or pending) adds up to. */
export interface DepositSums {
  deposits: number;
  batteries: number;
  /** Batteries per kind, as the bins reported them. */
  kinds: BatteryKindCounts;
  /** Sum of weightGrams / 1000 of the deposits that have a weight. */
  kilograms: number;
  /** Deposits without a weight (scale fault): their batteries are counted, their weight is not guessed. */
  depositsWithoutWeight: number;
  /** Points of credited deposits, and of pending ones since claimed when their card was bound. */
  pointsIssued: number;
  /** Points of pending deposits not claimed (unknown card, or awaiting review). */
  pointsPending: number;
}

export interface DepositReportRow extends DepositSums {
  /** Local day `YYYY-MM-DD` or month `YYYY-MM` in the community's time zone. */
  period: string;
  /** With by=bin. */
  deviceId?: string;
  deviceLabel?: string | null;
}

export interface RejectedDeposits {
  reason: string;
  deposits: number;
  batteries: number;
}

export interface DepositReportQuery {
  communityId: string;
  /** A bare date `YYYY-MM-DD` (local midnight in the community's time zone) or an ISO instant; [from, to). */
  from: string;
  to: string;
  groupBy: 'day' | 'month';
  by: 'kind' | 'bin';
}

export interface DepositReport {
  communityId: string;
  communityName: string;
  timezone: string;
  /** The period as instants, half-open [from, to). */
  from: string;
  to: string;
  groupBy: 'day' | 'month';
  by: 'kind' | 'bin';
  rows: DepositReportRow[];
  total: DepositSums;
  /** Rejected deposits of the period by reason: not in rows nor total. */
  rejected: RejectedDeposits[];
}

export interface DepositTotals {
  /** The community, or null for every community of the district. */
  communityId: string | null;
  /** The community's time zone; null for the district. */
  timezone: string | null;
  from: string;
  to: string;
  total: DepositSums;
  /** Communities and bins with at least one accepted deposit in the period. */
  communities: number;
  bins: number;
  rejected: RejectedDeposits[];
}

type Num = string | number | null;
const n = (v: Num | undefined): number => (v === null || v === undefined ? 0 : Number(v));

type SumsRow = Record<'deposits' | 'batteries' | 'grams' | 'without_weight' | 'points_issued' | 'points_pending', Num> &
  Record<(typeof SQL.KIND_COLUMNS)[number], Num>;

/** Grams to kilograms, to the gram (weights are whole or fractional grams). */
function kilograms(grams: Num): number {
  return Math.round(n(grams)) / 1000;
}

function sums(row: SumsRow | undefined): DepositSums {
  const kinds = Object.fromEntries(SQL.KIND_COLUMNS.map((k) => [k, n(row?.[k])])) as BatteryKindCounts;
  return {
    deposits: n(row?.deposits),
    batteries: n(row?.batteries),
    kinds,
    kilograms: kilograms(row?.grams ?? null),
    depositsWithoutWeight: n(row?.without_weight),
    pointsIssued: n(row?.points_issued),
    pointsPending: n(row?.points_pending),
  };
}

const BARE_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A bound as the SQL takes it: a bare date as it is, an instant as a full ISO string. */
function boundText(value: string, name: string): string {
  if (BARE_DATE.test(value)) {
    const d = new Date(`${value}T00:00:00Z`);
    if (!Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value) return value;
  } else {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d.toISOString();
  }
  throw new DomainError('validation-failed', `${name} must be YYYY-MM-DD or an ISO date-time`);
}

const iso = (d: Date | string): string => new Date(d).toISOString();

function rejectedOf(rows: { reason: string; deposits: Num; batteries: Num }[]): RejectedDeposits[] {
  return rows.map((r) => ({ reason: r.reason === '' ? 'unknown' : r.reason, deposits: n(r.deposits), batteries: n(r.batteries) }));
}

/**
 * Battery deposit reports, from the device events, with hand-written aggregate
 * SQL (deposit-reports.sql.ts). Counted: deposits with result credited or
 * pending (the batteries are in the bin); rejected ones are reported apart by
 * reason. Days and months are the community's local calendar, by occurred_at.
 */
export class DepositReportsRepository {
  constructor(private readonly db: Database) {}

  async depositReport(query: DepositReportQuery): Promise<DepositReport> {
    const { communityId, groupBy, by } = query;
    const params = [communityId, boundText(query.from, 'from'), boundText(query.to, 'to')];
    return this.db.transaction(
      async (q) => {
        const [c] = await q<{ id: string; name: string; timezone: string; t_from: Date | string; t_to: Date | string }>(
          SQL.COMMUNITY_PERIOD,
          params,
        );
        if (!c) throw new DomainError('not-found', `no community with id ${communityId}`);
        if (new Date(c.t_from).getTime() >= new Date(c.t_to).getTime()) {
          throw new DomainError('validation-failed', 'from must be before to');
        }
        const grouped =
          by === 'bin'
            ? (
                await q<SumsRow & { period: string; device_id: string; device_label: string | null }>(SQL.BY_PERIOD_AND_BIN, [
                  ...params,
                  groupBy,
                ])
              ).map((r) => ({ period: r.period, deviceId: r.device_id, deviceLabel: r.device_label, ...sums(r) }))
            : (await q<SumsRow & { period: string }>(SQL.BY_PERIOD, [...params, groupBy])).map((r) => ({ period: r.period, ...sums(r) }));
        const [total] = await q<SumsRow>(SQL.TOTAL, params);
        const rejected = await q<{ reason: string; deposits: Num; batteries: Num }>(SQL.REJECTED, params);
        return {
          communityId: c.id,
          communityName: c.name,
          timezone: c.timezone,
          from: iso(c.t_from),
          to: iso(c.t_to),
          groupBy,
          by,
          rows: grouped,
          total: sums(total),
          rejected: rejectedOf(rejected),
        };
      },
      { scans: true },
    ); // aggregates over the community's events: sequential scans welcome
  }

  /**
   * The totals of a period for one community, or for every community (null):
   * a bare date is local midnight in each community's own time zone.
   */
  async depositTotals(communityId: string | null, from: string, to: string): Promise<DepositTotals> {
    const params = [communityId ?? '', boundText(from, 'from'), boundText(to, 'to')];
    return this.db.transaction(
      async (q) => {
        const [c] = await q<{ timezone: string; t_from: Date | string; t_to: Date | string }>(
          communityId === null ? `${SQL.COMMUNITY_PERIOD} LIMIT 1` : SQL.COMMUNITY_PERIOD,
          params,
        );
        if (communityId !== null && !c) throw new DomainError('not-found', `no community with id ${communityId}`);
        if (c && new Date(c.t_from).getTime() >= new Date(c.t_to).getTime()) {
          throw new DomainError('validation-failed', 'from must be before to');
        }
        const [total] = await q<SumsRow & { communities: Num; bins: Num }>(SQL.TOTAL, params);
        const rejected = await q<{ reason: string; deposits: Num; batteries: Num }>(SQL.REJECTED, params);
        return {
          communityId,
          timezone: communityId !== null && c ? c.timezone : null,
          // The district's bare dates stay dates: each community places them in its own time zone.
          from: communityId !== null && c ? iso(c.t_from) : params[1]!,
          to: communityId !== null && c ? iso(c.t_to) : params[2]!,
          total: sums(total),
          communities: n(total?.communities),
          bins: n(total?.bins),
          rejected: rejectedOf(rejected),
        };
      },
      { scans: true },
    );
  }
}
