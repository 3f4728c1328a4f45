import { z } from 'zod';

/**
 * How an activity awards points.
 * - attendance: `points` once, at check-in.
 * - hours: `pointsPerHour` for presence between the first and the last tap,
 *   counted only inside the activity's start and end; presence is rounded down to
 *   whole `roundingMinutes`, and below `minimumMinutes` it counts nothing.
 */
export const pointsPolicySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('attendance'), points: z.number().int().min(0).max(10_000) }),
  z.object({
    kind: z.literal('hours'),
    pointsPerHour: z.number().int().min(0).max(1_000),
    roundingMinutes: z.number().int().min(1).max(240).default(15),
    minimumMinutes: z.number().int().min(0).max(1_440).default(30),
  }),
]);
export type PointsPolicy = z.output<typeof pointsPolicySchema>;

/**
 * What happens to an attendance still open when the activity ends (hours mode;
 * an attendance-mode check-in is simply closed, its points kept):
 * - credit-to-end: checked out at the end; presence counted up to the end.
 * - no-hours: closed at the end with no presence counted (0 hours, 0 points);
 *   an organiser can record the real check-out by hand.
 */
export const AUTO_CLOSE_POLICIES = ['credit-to-end', 'no-hours'] as const;
export type AutoClosePolicy = (typeof AUTO_CLOSE_POLICIES)[number];

/** One occurrence of an activity, as the check-in rules see it. Times are instants. */
export interface ActivityRule {
  id: string;
  communityId: string;
  siteId: string;
  title: string;
  startsAt: Date;
  endsAt: Date;
  /** Check-in opens this many minutes before the start... */
  opensBeforeMinutes: number;
  /** ...and closes this many after it. */
  closesAfterMinutes: number;
  /** Check-out taps (hours mode) are taken until this long after the end; presence still counts only to the end. */
  checkOutGraceMinutes: number;
  /** null: no limit. */
  capacity: number | null;
  policy: PointsPolicy;
  /** Points stay pending until an organiser or credit administrator approves them. */
  requiresReview: boolean;
  autoClose: AutoClosePolicy;
  /** A second tap this soon after one already counted is a repeat (default 60 s). */
  debounceSeconds: number;
}

export const DEFAULT_DEBOUNCE_SECONDS = 60;
const MINUTE = 60_000;

export function checkInWindow(a: ActivityRule): { opensAt: Date; closesAt: Date } {
  return {
    opensAt: new Date(a.startsAt.getTime() - a.opensBeforeMinutes * MINUTE),
    closesAt: new Date(a.startsAt.getTime() + a.closesAfterMinutes * MINUTE),
  };
}

/** Until when a tap at the site can still concern this activity (a check-out). */
export function lastTapAt(a: ActivityRule): Date {
  return new Date(a.endsAt.getTime() + (a.policy.kind === 'hours' ? a.checkOutGraceMinutes * MINUTE : 0));
}

/** Whether a tap at `at` can concern this activity at all: from check-in opening to the last check-out. */
export function isActivityOpenAt(a: ActivityRule, at: Date): boolean {
  const t = at.getTime();
  return t >= checkInWindow(a).opensAt.getTime() && t <= Math.max(lastTapAt(a).getTime(), checkInWindow(a).closesAt.getTime());
}
