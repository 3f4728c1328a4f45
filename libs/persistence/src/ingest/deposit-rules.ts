import {
  type DepositPointsPerUnit,
  type DepositTally,
  type PointsRules,
  implicitRules,
  localDayWindow,
  pointsRulesSchema,
} from '../../../domain/src';
import type { SqlQuery } from '../database';
import * as SQL from './ingest.sql';

export interface RulesVersion {
  version: number;
  effectiveFrom: Date;
  rules: PointsRules;
}

/** Each community's points rules versions, oldest first; an entry (maybe empty) for every community asked for. */
export async function readRules(query: SqlQuery, communityIds: string[]): Promise<Map<string, RulesVersion[]>> {
  const found = new Map<string, RulesVersion[]>(communityIds.map((id) => [id, []]));
  const rows = await query<{ community_id: string; version: number; effective_from: Date | string; rules: unknown }>(SQL.SELECT_RULES, [
    JSON.stringify(communityIds),
  ]);
  for (const r of rows) {
    found
      .get(r.community_id)!
      .push({ version: r.version, effectiveFrom: new Date(r.effective_from), rules: pointsRulesSchema.parse(r.rules) });
  }
  return found;
}

/** The version in force at `at` (versions sorted by version, so by effective_from); version 0 before the first. */
export function rulesAt(
  versions: readonly RulesVersion[],
  perUnit: Partial<DepositPointsPerUnit>,
  at: Date,
): { version: number; rules: PointsRules } {
  for (let i = versions.length - 1; i >= 0; i--) {
    if (versions[i]!.effectiveFrom.getTime() <= at.getTime()) return versions[i]!;
  }
  return { version: 0, rules: implicitRules(perUnit) };
}

const QUARTER_HOUR_MS = 15 * 60_000;
const periodCache = new Map<string, { day: string; month: string }>();

interface TallyCell {
  points: number;
  batteries: number;
}

/**
 * The batch's view of residents' deposit tallies: loaded once for the (resident,
 * day, month) keys the batch touches, advanced as each deposit is judged in
 * order, written back whole. The resident's row lock (taken before) makes this safe.
 */
export class RunningTallies {
  private readonly cells = new Map<string, TallyCell>();
  private readonly touched = new Set<string>();

  static key(residentId: string, period: 'day' | 'month', start: string): string {
    return `${residentId}|${period}|${start}`;
  }

  /**
   * The local day and the first day of its month, in the community's time zone.
   * Every UTC offset in use is a multiple of 15 minutes, so a local midnight
   * falls on a 15-minute UTC boundary and the local day is the same all through
   * such a quarter hour: one time-zone computation (26 µs) serves them all.
   */
  static periodsOf(at: Date, timeZone: string): { day: string; month: string } {
    const key = `${timeZone}|${Math.floor(at.getTime() / QUARTER_HOUR_MS)}`;
    let found = periodCache.get(key);
    if (!found) {
      const { day } = localDayWindow(at, timeZone);
      found = { day, month: `${day.slice(0, 7)}-01` };
      if (periodCache.size >= 10_000) periodCache.clear();
      periodCache.set(key, found);
    }
    return found;
  }

  async load(query: SqlQuery, wanted: { residentId: string; day: string; month: string }[]): Promise<void> {
    const keys = new Map<string, { resident_id: string; period: string; period_start: string }>();
    for (const w of wanted) {
      keys.set(RunningTallies.key(w.residentId, 'day', w.day), { resident_id: w.residentId, period: 'day', period_start: w.day });
      keys.set(RunningTallies.key(w.residentId, 'month', w.month), { resident_id: w.residentId, period: 'month', period_start: w.month });
    }
    for (const k of keys.keys()) this.cells.set(k, { points: 0, batteries: 0 });
    if (keys.size === 0) return;
    const rows = await query<{ resident_id: string; period: 'day' | 'month'; period_start: string; points: number; batteries: number }>(
      SQL.SELECT_TALLIES,
      [JSON.stringify([...keys.values()])],
    );
    for (const r of rows)
      this.cells.set(RunningTallies.key(r.resident_id, r.period, r.period_start), { points: r.points, batteries: r.batteries });
  }

  get(residentId: string, day: string, month: string): DepositTally {
    const d = this.cells.get(RunningTallies.key(residentId, 'day', day)) ?? { points: 0, batteries: 0 };
    const m = this.cells.get(RunningTallies.key(residentId, 'month', month)) ?? { points: 0, batteries: 0 };
    return { dayPoints: d.points, dayBatteries: d.batteries, monthPoints: m.points, monthBatteries: m.batteries };
  }

  add(residentId: string, day: string, month: string, points: number, batteries: number): void {
    for (const key of [RunningTallies.key(residentId, 'day', day), RunningTallies.key(residentId, 'month', month)]) {
      const cell = this.cells.get(key) ?? { points: 0, batteries: 0 };
      cell.points += points;
      cell.batteries += batteries;
      this.cells.set(key, cell);
      this.touched.add(key);
    }
  }

  /** The changed cells as rows for the batch write's upsert. */
  rows(): { resident_id: string; period: string; period_start: string; points: number; batteries: number }[] {
    return [...this.touched].map((key) => {
      const [residentId, period, start] = key.split('|') as [string, string, string];
      const cell = this.cells.get(key)!;
      return { resident_id: residentId, period, period_start: start, points: cell.points, batteries: cell.batteries };
    });
  }
}
