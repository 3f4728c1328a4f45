/**
 * The calendar day containing `at` in a community's time zone (e.g.
 * Asia/Shanghai), as the UTC instants it starts and ends: per-day limits count
 * what happened between them, so "today" means the residents' today, not the
 * server's.
 */
export function localDayWindow(at: Date, timeZone: string): { start: Date; end: Date; day: string } {
  const { year, month, day } = localDate(at, timeZone);
  const start = localMidnight(year, month, day, timeZone);
  const end = localMidnight(year, month, day + 1, timeZone);
  return { start, end, day: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}` };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws a RangeError for a zone the runtime does not know.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function localParts(at: Date, timeZone: string) {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(at)
      .filter((p) => p.type !== 'literal')
      .map((p) => [p.type, Number(p.value)]),
  ) as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;
  return parts;
}

function localDate(at: Date, timeZone: string) {
  const p = localParts(at, timeZone);
  return { year: p.year, month: p.month, day: p.day };
}

/** How far the zone's wall clock is ahead of UTC at `at`, in ms. */
function offsetMs(at: Date, timeZone: string): number {
  const p = localParts(at, timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant the zone's wall clock reads 00:00 on that date (day may overflow: Date.UTC normalises it). */
function localMidnight(year: number, month: number, day: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day);
  // Two passes settle the offset across a DST change.
  let guess = wall - offsetMs(new Date(wall), timeZone);
  guess = wall - offsetMs(new Date(guess), timeZone);
  return new Date(guess);
}

/**
 * The instant a zone's wall clock reads `date` (YYYY-MM-DD) at `time` (HH:MM):
 * "every Saturday 9:00" in the community's zone, whatever the server's.
 */
export function wallClockInstant(date: string, time: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let guess = wall - offsetMs(new Date(wall), timeZone);
  guess = wall - offsetMs(new Date(guess), timeZone);
  return new Date(guess);
}
