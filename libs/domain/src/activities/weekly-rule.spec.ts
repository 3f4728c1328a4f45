import { weeklyOccurrences, weeklyRuleSchema } from './weekly-rule';

describe('weekly recurrence', () => {
  it('every Saturday 9:00–11:00 in Shanghai, three weeks', () => {
    const rule = weeklyRuleSchema.parse({
      weekdays: [6],
      startTime: '09:00',
      endTime: '11:00',
      fromDate: '2026-11-23',
      untilDate: '2026-12-13',
    });
    expect(weeklyOccurrences(rule, 'Asia/Shanghai').map((o) => [o.date, o.startsAt.toISOString(), o.endsAt.toISOString()])).toEqual([
      ['2026-11-28', '2026-11-28T01:00:00.000Z', '2026-11-28T03:00:00.000Z'],
      ['2026-12-05', '2026-12-05T01:00:00.000Z', '2026-12-05T03:00:00.000Z'],
      ['2026-12-12', '2026-12-12T01:00:00.000Z', '2026-12-12T03:00:00.000Z'],
    ]);
  });

  it('keeps the wall-clock time across a daylight-saving change', () => {
    // New York leaves DST on 2026-11-01: 9:00 is 13:00 UTC before and 14:00 UTC after.
    const rule = weeklyRuleSchema.parse({
      weekdays: [7],
      startTime: '09:00',
      endTime: '10:00',
      fromDate: '2026-10-25',
      untilDate: '2026-11-01',
    });
    expect(weeklyOccurrences(rule, 'America/New_York').map((o) => o.startsAt.toISOString())).toEqual([
      '2026-10-25T13:00:00.000Z',
      '2026-11-01T14:00:00.000Z',
    ]);
  });

  it('several weekdays, inclusive of both dates', () => {
    const rule = weeklyRuleSchema.parse({
      weekdays: [1, 3],
      startTime: '19:00',
      endTime: '20:30',
      fromDate: '2026-11-23',
      untilDate: '2026-11-30',
    });
    expect(weeklyOccurrences(rule, 'Asia/Shanghai').map((o) => o.date)).toEqual(['2026-11-23', '2026-11-25', '2026-11-30']);
  });

  it.each([
    [{ weekdays: [6], startTime: '11:00', endTime: '09:00', fromDate: '2026-11-23', untilDate: '2026-12-13' }, 'endTime'],
    [{ weekdays: [8], startTime: '09:00', endTime: '11:00', fromDate: '2026-11-23', untilDate: '2026-12-13' }, 'weekdays.0'],
    [{ weekdays: [6], startTime: '9:00', endTime: '11:00', fromDate: '2026-11-23', untilDate: '2026-12-13' }, 'startTime'],
    [{ weekdays: [6], startTime: '09:00', endTime: '11:00', fromDate: '2026-11-23', untilDate: '2028-01-01' }, 'untilDate'],
  ])('refuses a bad rule, naming the field (%#)', (rule, field) => {
    const result = weeklyRuleSchema.safeParse(rule);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toContain(field);
  });
});
