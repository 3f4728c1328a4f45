import { localDayWindow } from './local-day';

describe('localDayWindow', () => {
  it("is the community's calendar day, not the server's (Asia/Shanghai is UTC+8)", () => {
    // 23:30 UTC on 1 March is 07:30 on 2 March in Shanghai
    const w = localDayWindow(new Date('2026-03-01T23:30:00Z'), 'Asia/Shanghai');
    expect(w.day).toBe('2026-03-02');
    expect(w.start.toISOString()).toBe('2026-03-01T16:00:00.000Z');
    expect(w.end.toISOString()).toBe('2026-03-02T16:00:00.000Z');
  });

  it('puts local midnight in the new day and the instant before it in the old one', () => {
    const midnight = localDayWindow(new Date('2026-03-01T16:00:00Z'), 'Asia/Shanghai');
    expect(midnight.day).toBe('2026-03-02');
    const before = localDayWindow(new Date('2026-03-01T15:59:59.999Z'), 'Asia/Shanghai');
    expect(before.day).toBe('2026-03-01');
    expect(before.end.toISOString()).toBe(midnight.start.toISOString());
  });

  it('crosses month and year ends', () => {
    const w = localDayWindow(new Date('2026-12-31T17:00:00Z'), 'Asia/Shanghai');
    expect(w.day).toBe('2027-01-01');
    expect(w.start.toISOString()).toBe('2026-12-31T16:00:00.000Z');
  });

  it('is 23 or 25 hours long on daylight-saving days', () => {
    const spring = localDayWindow(new Date('2026-03-08T12:00:00Z'), 'America/New_York');
    expect(spring.day).toBe('2026-03-08');
    expect(spring.start.toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect((spring.end.getTime() - spring.start.getTime()) / 3_600_000).toBe(23);
    const autumn = localDayWindow(new Date('2026-11-01T12:00:00Z'), 'America/New_York');
    expect((autumn.end.getTime() - autumn.start.getTime()) / 3_600_000).toBe(25);
  });

  it('works for UTC itself', () => {
    const w = localDayWindow(new Date('2026-05-05T00:00:00Z'), 'UTC');
    expect(w).toEqual({ day: '2026-05-05', start: new Date('2026-05-05T00:00:00Z'), end: new Date('2026-05-06T00:00:00Z') });
  });
});
