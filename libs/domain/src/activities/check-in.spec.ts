import type { ActivityRule } from './activity';
import { type AttendanceState, type TapDecision, autoClose, countedMinutes, hoursPoints, judgeTap, presenceMinutes } from './check-in';
import { tapDisplay } from './check-in-display';

// Saturday 2026-11-28, 09:00–11:00 in Asia/Shanghai = 01:00–03:00 UTC.
const at = (hhmmss: string) => new Date(`2026-11-28T${hhmmss}+08:00`);

const base: ActivityRule = {
  id: 'act-1',
  communityId: 'c',
  siteId: 'site-a',
  title: '清洁家园',
  startsAt: at('09:00:00'),
  endsAt: at('11:00:00'),
  opensBeforeMinutes: 30,
  closesAfterMinutes: 15,
  checkOutGraceMinutes: 30,
  capacity: null,
  policy: { kind: 'attendance', points: 5 },
  requiresReview: false,
  autoClose: 'credit-to-end',
  debounceSeconds: 60,
};
const hours: ActivityRule = {
  ...base,
  id: 'act-h',
  policy: { kind: 'hours', pointsPerHour: 10, roundingMinutes: 15, minimumMinutes: 30 },
};

let ids = 0;
const newId = () => `att-${++ids}`;

/** Runs taps in the given order through judgeTap, keeping state as the repository would. */
function play(activity: ActivityRule, taps: string[], counts = new Map<string, number>()) {
  const attendances = new Map<string, AttendanceState>();
  const decisions: TapDecision[] = [];
  for (const t of taps) {
    const d = judgeTap({
      residentId: 'r1',
      siteId: activity.siteId,
      at: at(t),
      activities: [activity],
      attendances,
      openElsewhere: [],
      counts,
      newId,
    });
    if (d.kind !== 'refused') attendances.set(d.activity.id, d.attendance);
    else if (d.stray) attendances.set(d.stray.activityId, d.stray);
    decisions.push(d);
  }
  return { decisions, attendance: attendances.get(activity.id) ?? null };
}

const summary = (d: TapDecision) => (d.kind === 'refused' ? `${d.reason}${d.detail ? `/${d.detail}` : ''}` : `${d.kind} +${d.pointsAdded}`);

describe('the check-in window (attendance mode: 09:00 start, opens 30 min before, closes 15 min after)', () => {
  it.each([
    ['08:29:59', 'no-open-activity/not-yet-open'],
    ['08:30:00', 'checked-in +5'],
    ['09:00:00', 'checked-in +5'],
    ['09:15:00', 'checked-in +5'],
    ['09:15:01', 'no-open-activity/check-in-closed'],
    ['10:59:00', 'no-open-activity/check-in-closed'],
    ['11:00:01', 'no-open-activity/none'],
  ])('a first tap at %s → %s', (time, expected) => {
    expect(play(base, [time]).decisions.map(summary)).toEqual([expected]);
  });
});

describe('repeats and check-out', () => {
  it.each<[string, ActivityRule, string[], string[]]>([
    ['a double tap within the debounce is a repeat', base, ['09:00:00', '09:00:59'], ['checked-in +5', 'already-checked-in']],
    [
      'attendance mode has no check-out: a later tap is a repeat too',
      base,
      ['09:00:00', '10:30:00'],
      ['checked-in +5', 'already-checked-in'],
    ],
    ['hours: a tap at the debounce edge is still a repeat', hours, ['09:00:00', '09:01:00'], ['checked-in +0', 'already-checked-in']],
    ['hours: the next tap checks out (1 h 30 → 15 points)', hours, ['09:00:00', '10:30:00'], ['checked-in +0', 'checked-out +15']],
    [
      'hours: a double tap at check-out is a repeat',
      hours,
      ['09:00:00', '10:30:00', '10:30:30'],
      ['checked-in +0', 'checked-out +15', 'already-checked-in'],
    ],
    [
      'hours: a later tap moves the check-out and adds the difference',
      hours,
      ['09:00:00', '10:00:00', '10:45:00'],
      ['checked-in +0', 'checked-out +10', 'checked-out +7'],
    ],
    [
      'hours: a tap between check-in and check-out changes nothing',
      hours,
      ['09:00:00', '10:45:00', '10:00:00'],
      ['checked-in +0', 'checked-out +17', 'already-checked-in'],
    ],
    [
      'hours: check-out within the grace after the end counts to the end only',
      hours,
      ['08:50:00', '11:20:00'],
      ['checked-in +0', 'checked-out +20'],
    ],
    ['hours: past the grace the tap finds no activity', hours, ['09:00:00', '11:30:01'], ['checked-in +0', 'no-open-activity/none']],
    ['hours: under the 30-minute minimum nothing counts', hours, ['09:00:00', '09:29:00'], ['checked-in +0', 'checked-out +0']],
  ])('%s', (_, activity, taps, expected) => {
    expect(play(activity, taps).decisions.map(summary)).toEqual(expected);
  });
});

describe('late taps are judged by occurredAt, whatever order they arrive in', () => {
  it('a terminal offline at check-in: its 08:55 tap arriving after the 10:30 one makes the same attendance', () => {
    const inOrder = play(hours, ['08:55:00', '10:30:00']);
    const late = play(hours, ['10:30:00', '08:55:00']);
    // 10:30 alone is past the check-in window: refused, but kept; the 08:55 tap then checks in with presence to 10:30.
    expect(late.decisions.map(summary)).toEqual(['no-open-activity/check-in-closed', 'checked-in +15']);
    for (const key of ['firstTapAt', 'lastTapAt', 'status', 'minutes', 'points'] as const) {
      expect(late.attendance![key]).toEqual(inOrder.attendance![key]);
    }
    expect(late.attendance).toMatchObject({ minutes: 90, points: 15, status: 'out' });
  });

  it('hours: a check-out tap from an offline terminal arriving after a later one moves nothing back', () => {
    expect(play(hours, ['09:00:00', '10:30:00', '10:00:00']).decisions.map(summary)).toEqual([
      'checked-in +0',
      'checked-out +15',
      'already-checked-in',
    ]);
  });

  it('a late tap from before the window is refused, even when a check-in exists', () => {
    // 10:00 alone is past the check-in window; 09:10 checks in, then a stray 08:00 tap arrives.
    expect(play(hours, ['09:10:00', '08:00:00']).decisions.map(summary)).toEqual(['checked-in +0', 'no-open-activity/not-yet-open']);
  });
});

describe('hours rounding', () => {
  const policy = { kind: 'hours' as const, pointsPerHour: 10, roundingMinutes: 15, minimumMinutes: 30 };
  it.each([
    [29, 0, 0],
    [30, 30, 5],
    [44, 30, 5],
    [45, 45, 7],
    [119, 105, 17],
    [120, 120, 20],
  ])('%i min present → %i min counted → %i points', (present, counted, points) => {
    expect(countedMinutes(policy, present)).toBe(counted);
    expect(hoursPoints(policy, counted)).toBe(points);
  });

  it('presence counts only between the start and the end', () => {
    expect(presenceMinutes(hours, at('08:40:00'), at('11:25:00'))).toBe(120);
    expect(presenceMinutes(hours, at('09:30:30'), at('10:00:00'))).toBe(29);
  });
});

describe('capacity', () => {
  it('refuses a check-in once the activity is full, and still takes repeats of those inside', () => {
    const full = { ...base, capacity: 2 };
    expect(play(full, ['09:00:00'], new Map([['act-1', 2]])).decisions.map(summary)).toEqual(['capacity-reached']);
    expect(play(full, ['09:00:00'], new Map([['act-1', 1]])).decisions.map(summary)).toEqual(['checked-in +5']);
  });
});

describe('auto-close at the end', () => {
  const checkedIn = () => play(hours, ['09:10:00']).attendance!;
  it('credit-to-end counts presence up to the end (1 h 50 → 1 h 45 → 17 points)', () => {
    const closed = autoClose(hours, checkedIn())!;
    expect(closed.attendance).toMatchObject({ status: 'closed', minutes: 105, points: 17, checkedOutAt: hours.endsAt });
    expect(closed.pointsAdded).toBe(17);
  });
  it('no-hours closes with nothing counted; a late check-out tap still counts afterwards', () => {
    const policy: ActivityRule = { ...hours, autoClose: 'no-hours' };
    const closed = autoClose(policy, checkedIn())!;
    expect(closed).toMatchObject({ pointsAdded: 0, attendance: { status: 'closed', minutes: 0, points: 0 } });
    const late = judgeTap({
      residentId: 'r1',
      siteId: 'site-a',
      at: at('10:40:00'),
      activities: [policy],
      attendances: new Map([[policy.id, closed.attendance]]),
      openElsewhere: [],
      counts: new Map(),
      newId,
    });
    expect(summary(late)).toBe('checked-out +15');
  });
  it('attendance mode keeps its points; an attendance already out is left alone', () => {
    const inBase = play(base, ['09:00:00']).attendance!;
    expect(autoClose(base, inBase)).toMatchObject({ pointsAdded: 0, attendance: { status: 'closed', points: 5 } });
    expect(autoClose(hours, play(hours, ['09:00:00', '10:00:00']).attendance!)).toBeNull();
  });
  it('after credit-to-end, a tap after the end adds nothing', () => {
    const closed = autoClose(hours, checkedIn())!;
    const d = judgeTap({
      residentId: 'r1',
      siteId: 'site-a',
      at: at('11:10:00'),
      activities: [hours],
      attendances: new Map([[hours.id, closed.attendance]]),
      openElsewhere: [],
      counts: new Map(),
      newId,
    });
    expect(summary(d)).toBe('already-checked-in');
  });
});

describe('two terminals, two sites', () => {
  it('two terminals at one site share the activity: the second tap is the same attendance', () => {
    // The site is what matters, not the terminal: play() feeds both taps to one site's activities.
    expect(play(hours, ['09:00:00', '09:00:30', '10:00:00']).decisions.map(summary)).toEqual([
      'checked-in +0',
      'already-checked-in',
      'checked-out +10',
    ]);
  });

  it('a check-in at a second site ends the open attendance at the first at that moment', () => {
    const first = play(hours, ['09:00:00']).attendance!;
    const elsewhere: ActivityRule = {
      ...base,
      id: 'act-b',
      siteId: 'site-b',
      title: '读书会',
      startsAt: at('10:00:00'),
      endsAt: at('11:30:00'),
    };
    const d = judgeTap({
      residentId: 'r1',
      siteId: 'site-b',
      at: at('10:00:00'),
      activities: [elsewhere],
      attendances: new Map(),
      openElsewhere: [{ activity: hours, attendance: first }],
      counts: new Map(),
      newId,
    });
    expect(summary(d)).toBe('checked-in +5');
    if (d.kind === 'refused') throw new Error('refused');
    expect(d.closedElsewhere).toHaveLength(1);
    expect(d.closedElsewhere[0]).toMatchObject({
      pointsAdded: 10,
      attendance: { status: 'out', minutes: 60, checkedOutAt: at('10:00:00') },
    });
  });
});

describe('time zone', () => {
  it('judges the window on instants: 09:00 in Shanghai is 01:00 UTC', () => {
    const utc = (iso: string) =>
      judgeTap({
        residentId: 'r',
        siteId: 'site-a',
        at: new Date(iso),
        activities: [base],
        attendances: new Map(),
        openElsewhere: [],
        counts: new Map(),
        newId,
      });
    expect(summary(utc('2026-11-28T00:30:00Z'))).toBe('checked-in +5');
    expect(summary(utc('2026-11-28T00:29:59Z'))).toBe('no-open-activity/not-yet-open');
    expect(summary(utc('2026-11-28T09:00:00Z'))).toBe('no-open-activity/none');
  });
});

describe('display lines', () => {
  it('name the resident masked, the activity and the points, in Chinese and English', () => {
    const [inTap] = play(base, ['09:00:00']).decisions;
    expect(tapDisplay(inTap!, '张三丰', false)).toEqual({
      zh: '张*丰 签到成功「清洁家园」，+5 积分',
      en: '张*丰: checked in to "清洁家园", +5 points',
    });
    expect(tapDisplay(inTap!, '张三丰', true).zh).toBe('张*丰 签到成功「清洁家园」，5 积分待审核');
    const [, out] = play(hours, ['09:00:00', '10:30:00']).decisions;
    expect(tapDisplay(out!, 'Alice', false)).toEqual({
      zh: 'A***e 签退「清洁家园」，共 1.5 小时，+15 积分',
      en: 'A***e: checked out of "清洁家园", 1.5 h, +15 points',
    });
  });
});
