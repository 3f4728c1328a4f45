import type { Database } from '../database';

export interface HousekeepingCutoffs {
  /** Idempotency-Key answers created before this are forgotten (a retry that late runs again). */
  idempotencyBefore: Date;
  /** Deposit tallies of local days starting before this date (YYYY-MM-DD) are deleted. */
  dayTalliesBefore: string;
  /** Deposit tallies of months starting before this date (YYYY-MM-01) are deleted. */
  monthTalliesBefore: string;
}

export interface HousekeepingRun {
  idempotentRequests: number;
  dayTallies: number;
  monthTallies: number;
}

/**
 * Deletes what has served its purpose and would otherwise grow for ever:
 * Idempotency-Key answers past their retry window, and deposit cap tallies of
 * days and months no event can still be judged against. Nothing of the ledger,
 * the events or the audit log is touched.
 */
export class HousekeepingRepository {
  constructor(private readonly db: Database) {}

  async prune(cutoffs: HousekeepingCutoffs): Promise<HousekeepingRun> {
    return this.db.transaction(
      async (query) => {
        const [idem] = await query<{ n: number }>(
          `WITH gone AS (DELETE FROM idempotent_request WHERE created_at < $1::timestamptz RETURNING 1) SELECT count(*)::integer AS n FROM gone`,
          [cutoffs.idempotencyBefore.toISOString()],
        );
        const [days] = await query<{ n: number }>(
          `WITH gone AS (DELETE FROM deposit_tally WHERE period = 'day' AND period_start < $1::date RETURNING 1) SELECT count(*)::integer AS n FROM gone`,
          [cutoffs.dayTalliesBefore],
        );
        const [months] = await query<{ n: number }>(
          `WITH gone AS (DELETE FROM deposit_tally WHERE period = 'month' AND period_start < $1::date RETURNING 1) SELECT count(*)::integer AS n FROM gone`,
          [cutoffs.monthTalliesBefore],
        );
        return { idempotentRequests: idem!.n, dayTallies: days!.n, monthTallies: months!.n };
      },
      { scans: true },
    );
  }

  /** The longest claim window of any community (held deposits are capped by their own day when claimed). */
  async longestClaimWindowDays(): Promise<number> {
    const [row] = await this.db.transaction((query) =>
      query<{ days: number | null }>('SELECT max(claim_window_days)::integer AS days FROM community', []),
    );
    return row?.days ?? 0;
  }
}
