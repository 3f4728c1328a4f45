import { type ActivityRule, type PointsPolicy, checkInWindow, isActivityOpenAt, lastTapAt } from './activity';

/**
 * The check-in state machine (issue #5), pure: time and ids are passed in.
 *
 * One attendance per resident per activity occurrence. Its presence is the span
 * from the first counted tap to the last, each judged by `occurredAt`, so taps
 * that arrive late (a terminal that was offline) or out of order give the same
 * result as taps in order:
 * - the first tap inside the check-in window checks in (attendance points, or
 *   the start of presence in hours mode);
 * - a tap within the debounce of the first or last tap, or between them, is a
 *   repeat: `already-checked-in`, nothing changes;
 * - hours mode: a later tap (up to the check-out grace after the end) is the
 *   check-out; an earlier one inside the window moves the check-in. Every such
 *   tap widens the span, and the points that the wider span adds are credited;
 *   points never go down;
 * - attendance mode has no check-out: every further tap is a repeat.
 * Two sites at once: a check-in at one site ends the resident's open attendance
 * at another site at that moment (as if they had tapped out there).
 */
export type AttendanceStatus = 'in' | 'out' | 'closed' | 'stray';

export interface AttendanceState {
  id: string;
  activityId: string;
  residentId: string;
  siteId: string;
  /** The check-in: the earliest counted tap. */
  firstTapAt: Date;
  /** The latest counted tap (equal to firstTapAt until a check-out). */
  lastTapAt: Date;
  /**
   * in: present; out: tapped out (or left for another site); closed: closed at
   * the activity's end; stray (hours mode): only taps after the check-in window so
   * far, refused, but kept: a late check-in tap from an offline terminal turns
   * them into this resident's check-out.
   */
  status: AttendanceStatus;
  checkedOutAt: Date | null;
  /** Presence counted for points (hours mode, after rounding and the minimum): the volunteer minutes. */
  minutes: number;
  /** Points due for this attendance so far (posted or pending). */
  points: number;
  /** Counted taps (repeats are not counted). */
  taps: number;
}

export type TapRefusal = 'no-open-activity' | 'capacity-reached' | 'already-checked-in';
/** Why no activity took the tap, for the display. */
export type NoActivityDetail = 'none' | 'not-yet-open' | 'check-in-closed';

export interface AttendanceChange {
  activity: ActivityRule;
  attendance: AttendanceState;
  /** Points this change adds (0 or more). */
  pointsAdded: number;
}

export type TapDecision =
  | { kind: 'refused'; reason: TapRefusal; activity: ActivityRule | null; detail?: NoActivityDetail; stray?: AttendanceState }
  | ({ kind: 'checked-in' | 'checked-out' | 'check-in-moved'; closedElsewhere: AttendanceChange[] } & AttendanceChange);

export interface TapInput {
  residentId: string;
  siteId: string;
  at: Date;
  /** The activities at the tap's site (any time; those not open at `at` are ignored). */
  activities: readonly ActivityRule[];
  /** The resident's attendances, by activity id, for these activities. */
  attendances: ReadonlyMap<string, AttendanceState>;
  /** The resident's attendances still `in` at other sites, with their activities. */
  openElsewhere: readonly { activity: ActivityRule; attendance: AttendanceState }[];
  /** Attendances so far per activity id (capacity). */
  counts: ReadonlyMap<string, number>;
  /** A fresh id for a new attendance. */
  newId: () => string;
}

const MINUTE = 60_000;

/** Whole minutes of presence between two taps, counted only inside the activity's start and end. */
export function presenceMinutes(a: ActivityRule, first: Date, last: Date): number {
  const from = Math.max(first.getTime(), a.startsAt.getTime());
  const to = Math.min(last.getTime(), a.endsAt.getTime());
  return Math.max(0, Math.floor((to - from) / MINUTE));
}

/** Presence rounded down to whole rounding units; below the minimum it counts nothing. */
export function countedMinutes(policy: Extract<PointsPolicy, { kind: 'hours' }>, minutes: number): number {
  if (minutes < policy.minimumMinutes) return 0;
  return Math.floor(minutes / policy.roundingMinutes) * policy.roundingMinutes;
}

/** Points for counted minutes, rounded down to a whole point. */
export function hoursPoints(policy: Extract<PointsPolicy, { kind: 'hours' }>, counted: number): number {
  return Math.floor((counted * policy.pointsPerHour) / 60);
}

/** The attendance's minutes and points for a span, under the activity's policy. */
function evaluate(a: ActivityRule, first: Date, last: Date): { minutes: number; points: number } {
  if (a.policy.kind === 'attendance') return { minutes: 0, points: a.policy.points };
  const minutes = countedMinutes(a.policy, presenceMinutes(a, first, last));
  return { minutes, points: hoursPoints(a.policy, minutes) };
}

function widen(a: ActivityRule, att: AttendanceState, first: Date, last: Date, status: AttendanceStatus): AttendanceChange {
  const { minutes, points } = evaluate(a, first, last);
  const next: AttendanceState = {
    ...att,
    firstTapAt: first,
    lastTapAt: last,
    status,
    checkedOutAt: status === 'in' ? null : status === 'out' ? last : att.checkedOutAt,
    minutes,
    // Points never go down: a span only widens, and evaluate is monotone in it.
    points: Math.max(points, att.points),
    taps: att.taps + 1,
  };
  return { activity: a, attendance: next, pointsAdded: next.points - att.points };
}

/** A tap on an existing attendance. */
function tapAttendance(a: ActivityRule, att: AttendanceState, at: Date): TapDecision {
  const t = at.getTime();
  const debounce = a.debounceSeconds * 1000;
  const first = att.firstTapAt.getTime();
  const last = att.lastTapAt.getTime();
  if (att.status === 'stray') return tapStray(a, att, at);
  const isRepeat = (t >= first - debounce && t <= last + debounce) || a.policy.kind === 'attendance';
  // Closed at the end with presence to the end: a tap after the end adds nothing.
  const isAfterClose =
    att.status === 'closed' && att.checkedOutAt !== null && t >= att.checkedOutAt.getTime() && last >= a.endsAt.getTime();
  if (isRepeat || isAfterClose) return { kind: 'refused', reason: 'already-checked-in', activity: a };
  if (t < first) {
    // A late tap from before the one we took as the check-in: it is the check-in.
    if (t < checkInWindow(a).opensAt.getTime()) return { kind: 'refused', reason: 'no-open-activity', activity: a, detail: 'not-yet-open' };
    return { kind: 'check-in-moved', closedElsewhere: [], ...widen(a, att, at, att.lastTapAt, att.status === 'in' ? 'out' : att.status) };
  }
  if (t > lastTapAt(a).getTime()) return { kind: 'refused', reason: 'no-open-activity', activity: a, detail: 'check-in-closed' };
  return { kind: 'checked-out', closedElsewhere: [], ...widen(a, att, att.firstTapAt, at, 'out') };
}

/** A tap by a resident whose only taps so far came after the check-in window. */
function tapStray(a: ActivityRule, att: AttendanceState, at: Date): TapDecision {
  const t = at.getTime();
  const w = checkInWindow(a);
  if (t >= w.opensAt.getTime() && t <= w.closesAt.getTime()) {
    // The check-in arrived after its check-out: presence from here to the latest stray tap.
    return { kind: 'checked-in', closedElsewhere: [], ...widen(a, { ...att, points: 0 }, at, att.lastTapAt, 'out') };
  }
  const next: AttendanceState = {
    ...att,
    firstTapAt: new Date(Math.min(t, att.firstTapAt.getTime())),
    lastTapAt: new Date(Math.max(t, att.lastTapAt.getTime())),
    taps: att.taps + 1,
  };
  const detail: NoActivityDetail = t < w.opensAt.getTime() ? 'not-yet-open' : 'check-in-closed';
  return { kind: 'refused', reason: 'no-open-activity', activity: a, detail, stray: next };
}

/**
 * Ends an attendance at another site because the resident checked in here at
 * `at`: hours mode counts presence there up to `at`.
 */
export function leaveForAnotherSite(a: ActivityRule, att: AttendanceState, at: Date): AttendanceChange | null {
  if (att.status !== 'in' || at.getTime() <= att.firstTapAt.getTime()) return null;
  if (a.policy.kind === 'attendance') {
    return { activity: a, attendance: { ...att, status: 'out', checkedOutAt: at }, pointsAdded: 0 };
  }
  const end = new Date(Math.min(at.getTime(), lastTapAt(a).getTime()));
  return widen(a, { ...att, taps: att.taps - 1 }, att.firstTapAt, end, 'out');
}

/** What a card tap at a site means for the resident. */
export function judgeTap(input: TapInput): TapDecision {
  const { at } = input;
  const open = input.activities.filter((a) => isActivityOpenAt(a, at)).sort((x, y) => x.startsAt.getTime() - y.startsAt.getTime());
  const attended = open.find((a) => input.attendances.has(a.id));
  if (attended) return tapAttendance(attended, input.attendances.get(attended.id)!, at);

  const t = at.getTime();
  const checkIn = open.find((a) => {
    const w = checkInWindow(a);
    return t >= w.opensAt.getTime() && t <= w.closesAt.getTime();
  });
  if (!checkIn) {
    const later = input.activities.some((a) => checkInWindow(a).opensAt.getTime() > t && a.startsAt.getTime() - t < 24 * 60 * MINUTE);
    const detail: NoActivityDetail = open.length > 0 ? 'check-in-closed' : later ? 'not-yet-open' : 'none';
    const hoursOpen = open.find((a) => a.policy.kind === 'hours');
    const stray: AttendanceState | undefined = hoursOpen && {
      id: input.newId(),
      activityId: hoursOpen.id,
      residentId: input.residentId,
      siteId: input.siteId,
      firstTapAt: at,
      lastTapAt: at,
      status: 'stray',
      checkedOutAt: null,
      minutes: 0,
      points: 0,
      taps: 1,
    };
    return { kind: 'refused', reason: 'no-open-activity', activity: open[0] ?? null, detail, ...(stray ? { stray } : {}) };
  }
  if (checkIn.capacity !== null && (input.counts.get(checkIn.id) ?? 0) >= checkIn.capacity) {
    return { kind: 'refused', reason: 'capacity-reached', activity: checkIn };
  }
  const { minutes, points } = evaluate(checkIn, at, at);
  const attendance: AttendanceState = {
    id: input.newId(),
    activityId: checkIn.id,
    residentId: input.residentId,
    siteId: input.siteId,
    firstTapAt: at,
    lastTapAt: at,
    status: 'in',
    checkedOutAt: null,
    minutes,
    points,
    taps: 1,
  };
  const closedElsewhere = input.openElsewhere
    .filter((o) => o.attendance.siteId !== input.siteId)
    .flatMap((o) => leaveForAnotherSite(o.activity, o.attendance, at) ?? []);
  return { kind: 'checked-in', activity: checkIn, attendance, pointsAdded: points, closedElsewhere };
}

/**
 * Closes an attendance still `in` at the activity's end (the auto-close job).
 * Attendance mode keeps its points; hours mode follows the activity's policy:
 * credit-to-end counts presence up to the end, no-hours counts none.
 */
export function autoClose(a: ActivityRule, att: AttendanceState): AttendanceChange | null {
  if (att.status !== 'in') return null;
  if (a.policy.kind === 'attendance' || a.autoClose === 'no-hours') {
    return { activity: a, attendance: { ...att, status: 'closed', checkedOutAt: a.endsAt }, pointsAdded: 0 };
  }
  const closed = widen(a, { ...att, taps: att.taps - 1 }, att.firstTapAt, a.endsAt, 'closed');
  return { ...closed, attendance: { ...closed.attendance, checkedOutAt: a.endsAt } };
}
