import { DEFAULT_FUTURE_LIMIT_MS, DEFAULT_LATENESS_MS, FUTURE_TOLERANCE_MS, judgeEventTime } from './event-time';

const receivedAt = new Date('2026-11-23T08:00:00.000Z');
const at = (offsetMs: number) => new Date(receivedAt.getTime() + offsetMs);

describe('judgeEventTime', () => {
  it('tolerates a device clock 5 minutes ahead and still judges by occurredAt', () => {
    expect(FUTURE_TOLERANCE_MS).toBe(5 * 60 * 1000);
    expect(judgeEventTime(at(FUTURE_TOLERANCE_MS), receivedAt)).toEqual({
      kind: 'on-time',
      occurredAt: at(FUTURE_TOLERANCE_MS),
      isClockAhead: false,
    });
  });

  it('uses arrival time when the device clock is more than 5 minutes ahead, and flags it', () => {
    expect(judgeEventTime(at(FUTURE_TOLERANCE_MS + 1), receivedAt)).toEqual({
      kind: 'on-time',
      occurredAt: receivedAt,
      isClockAhead: true,
    });
  });

  it('uses arrival time for a clock up to a day ahead, flagged', () => {
    expect(DEFAULT_FUTURE_LIMIT_MS).toBe(24 * 60 * 60 * 1000);
    expect(judgeEventTime(at(DEFAULT_FUTURE_LIMIT_MS), receivedAt)).toEqual({
      kind: 'on-time',
      occurredAt: receivedAt,
      isClockAhead: true,
    });
  });

  it('refuses an event more than a day ahead as clock-ahead (a broken clock), keeping its own time', () => {
    expect(judgeEventTime(at(DEFAULT_FUTURE_LIMIT_MS + 1), receivedAt)).toEqual({
      kind: 'clock-ahead',
      occurredAt: at(DEFAULT_FUTURE_LIMIT_MS + 1),
    });
    expect(judgeEventTime(at(DEFAULT_LATENESS_MS * 10), receivedAt).kind).toBe('clock-ahead');
  });

  it('honours a custom future limit', () => {
    const hour = 60 * 60 * 1000;
    expect(judgeEventTime(at(hour), receivedAt, DEFAULT_LATENESS_MS, hour).kind).toBe('on-time');
    expect(judgeEventTime(at(hour + 1), receivedAt, DEFAULT_LATENESS_MS, hour).kind).toBe('clock-ahead');
  });

  it('judges an event that happened at arrival by its own time, unflagged', () => {
    expect(judgeEventTime(at(0), receivedAt)).toEqual({ kind: 'on-time', occurredAt: receivedAt, isClockAhead: false });
  });

  it('accepts an event exactly 7 days old by default', () => {
    expect(DEFAULT_LATENESS_MS).toBe(7 * 24 * 60 * 60 * 1000);
    expect(judgeEventTime(at(-DEFAULT_LATENESS_MS), receivedAt)).toEqual({
      kind: 'on-time',
      occurredAt: at(-DEFAULT_LATENESS_MS),
      isClockAhead: false,
    });
  });

  it('refuses an event 1 ms older than 7 days as too late, keeping its own time', () => {
    expect(judgeEventTime(at(-DEFAULT_LATENESS_MS - 1), receivedAt)).toEqual({
      kind: 'too-late',
      occurredAt: at(-DEFAULT_LATENESS_MS - 1),
    });
  });

  it('honours a custom lateness at its edge and 1 ms beyond', () => {
    const hour = 60 * 60 * 1000;
    expect(judgeEventTime(at(-hour), receivedAt, hour)).toMatchObject({ kind: 'on-time', isClockAhead: false });
    expect(judgeEventTime(at(-hour - 1), receivedAt, hour)).toEqual({ kind: 'too-late', occurredAt: at(-hour - 1) });
  });

  it('refuses with a custom lateness an event the default window would accept', () => {
    expect(judgeEventTime(at(-2 * 24 * 60 * 60 * 1000), receivedAt, 24 * 60 * 60 * 1000).kind).toBe('too-late');
  });

  it('accepts with a longer custom lateness an event the default window would refuse', () => {
    expect(judgeEventTime(at(-DEFAULT_LATENESS_MS - 1), receivedAt, 2 * DEFAULT_LATENESS_MS).kind).toBe('on-time');
  });
});
