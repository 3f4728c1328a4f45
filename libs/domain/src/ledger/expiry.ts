/**
 * Points expiry (optional per community): earned points form lots that expire
 * at the end of the calendar year they were earned in, or N months after; a
 * spend uses the oldest lot first (FIFO), so what expires is what was left
 * unspent longest. Pure: the caller streams one resident's entries in time order.
 */
export type ExpiryPolicy = { kind: 'year-end' } | { kind: 'months'; months: number };

export interface PointsMovement {
  at: Date;
  /** Points into the balance (+) or out of it (−). */
  amount: number;
  /** An expiry entry already posted: not spending, it settles what expired. */
  isExpiry: boolean;
}

export interface ExpiryState {
  /** Points that have expired by `now` and are not yet posted as expiry entries. */
  due: number;
  /** What is left, by the day it expires, soonest first. */
  upcoming: { expiresAt: Date; points: number }[];
}

/** When a lot earned at `earnedAt` expires; a year ends at local midnight in the community's time zone. */
export function lotExpiry(policy: ExpiryPolicy, earnedAt: Date, timeZone: string): Date {
  if (policy.kind === 'months') {
    const d = new Date(earnedAt);
    d.setUTCMonth(d.getUTCMonth() + policy.months);
    return d;
  }
  // The first instant of next year, local time in the community.
  const year = Number(new Intl.DateTimeFormat('en', { timeZone, year: 'numeric' }).format(earnedAt));
  return zonedMidnight(year + 1, 1, 1, timeZone);
}

/** The UTC instant of 00:00 on year-month-day in the time zone. */
export function zonedMidnight(year: number, month: number, day: number, timeZone: string): Date {
  const guess = Date.UTC(year, month - 1, day);
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(guess));
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const asLocal = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return new Date(guess - (asLocal - guess));
}

/**
 * Replays a resident's movements (time order) against the policy and says what
 * has expired by `now` but is not posted yet, and what expires later. A spend
 * that finds no unexpired lot (the resident spent points after they expired but
 * before the job posted it) is allowed to have used them: it lowers what is due.
 */
export function expiryState(movements: readonly PointsMovement[], policy: ExpiryPolicy, timeZone: string, now: Date): ExpiryState {
  const lots: { expiresAt: Date; points: number }[] = [];
  let expired = 0;
  let posted = 0;
  const expireUntil = (t: Date) => {
    while (lots.length > 0 && lots[0]!.expiresAt.getTime() <= t.getTime()) expired += lots.shift()!.points;
  };
  for (const m of movements) {
    if (m.isExpiry) {
      posted += -m.amount;
      continue;
    }
    expireUntil(m.at);
    if (m.amount > 0) {
      const expiresAt = lotExpiry(policy, m.at, timeZone);
      // Lots stay sorted by expiry: every policy expires later lots later.
      lots.push({ expiresAt, points: m.amount });
      continue;
    }
    let spend = -m.amount;
    while (spend > 0 && lots.length > 0) {
      const lot = lots[0]!;
      const used = Math.min(lot.points, spend);
      lot.points -= used;
      spend -= used;
      if (lot.points === 0) lots.shift();
    }
    // Spent from points that had expired but were not yet posted.
    expired -= Math.min(spend, Math.max(0, expired - posted));
  }
  expireUntil(now);
  const upcoming = new Map<number, number>();
  for (const lot of lots) upcoming.set(lot.expiresAt.getTime(), (upcoming.get(lot.expiresAt.getTime()) ?? 0) + lot.points);
  return {
    due: Math.max(0, expired - posted),
    upcoming: [...upcoming].map(([t, points]) => ({ expiresAt: new Date(t), points })),
  };
}
