import type { HousekeepingCutoffs } from '../../../../libs/persistence/src';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How far back each kind of record is still needed. A deposit tally is read
 * when an event of that day is judged, and an event may arrive up to the
 * lateness window late, or be claimed (and capped by its own day) up to the
 * longest claim window after it happened; two days more cover any time zone.
 * Idempotency-Key answers are kept for `idempotencyDays`.
 */
export function housekeepingCutoffs(
  now: Date,
  keep: { latenessDays: number; claimWindowDays: number; idempotencyDays: number },
): HousekeepingCutoffs {
  const tallyDays = Math.max(keep.latenessDays, keep.claimWindowDays) + 2;
  const day = new Date(now.getTime() - tallyDays * DAY_MS).toISOString().slice(0, 10);
  // A month's tally is needed while any of its days is.
  return {
    idempotencyBefore: new Date(now.getTime() - keep.idempotencyDays * DAY_MS),
    dayTalliesBefore: day,
    monthTalliesBefore: `${day.slice(0, 7)}-01`,
  };
}
