import { z } from 'zod';
import { wallClockInstant } from '../supermarket/local-day';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM, e.g. 09:00');
const isoDate = z.iso.date({ message: 'a date as YYYY-MM-DD' });

/** The longest a recurrence may run: its occurrences are generated at once. */
export const MAX_RECURRENCE_DAYS = 366;

/**
 * "Every Saturday 9:00–11:00": weekdays (ISO: 1 Monday … 7 Sunday), a start and
 * end time on the community's wall clock, from one date to another (inclusive).
 * A small explicit rule rather than RFC 5545 RRULE: rrule's time-zone handling
 * works on floating local times and is easy to get wrong across a DST change.
 */
export const weeklyRuleSchema = z
  .object({
    weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7),
    startTime: hhmm,
    endTime: hhmm,
    fromDate: isoDate,
    untilDate: isoDate,
  })
  .refine((r) => r.endTime > r.startTime, { message: 'endTime must be after startTime (same day)', path: ['endTime'] })
  .refine((r) => r.untilDate >= r.fromDate, { message: 'untilDate must not be before fromDate', path: ['untilDate'] })
  .refine((r) => (Date.parse(r.untilDate) - Date.parse(r.fromDate)) / 86_400_000 <= MAX_RECURRENCE_DAYS, {
    message: `a recurrence may span at most ${MAX_RECURRENCE_DAYS} days`,
    path: ['untilDate'],
  });
export type WeeklyRule = z.output<typeof weeklyRuleSchema>;

export interface Occurrence {
  /** The local date, YYYY-MM-DD. */
  date: string;
  startsAt: Date;
  endsAt: Date;
}

/** Every occurrence of the rule, in order, as instants in `timeZone`. */
export function weeklyOccurrences(rule: WeeklyRule, timeZone: string): Occurrence[] {
  const days = new Set(rule.weekdays);
  const out: Occurrence[] = [];
  const until = Date.parse(`${rule.untilDate}T00:00:00Z`);
  for (let t = Date.parse(`${rule.fromDate}T00:00:00Z`); t <= until; t += 86_400_000) {
    const day = new Date(t);
    const isoWeekday = day.getUTCDay() === 0 ? 7 : day.getUTCDay();
    if (!days.has(isoWeekday)) continue;
    const date = day.toISOString().slice(0, 10);
    out.push({ date, startsAt: wallClockInstant(date, rule.startTime, timeZone), endsAt: wallClockInstant(date, rule.endTime, timeZone) });
  }
  return out;
}
