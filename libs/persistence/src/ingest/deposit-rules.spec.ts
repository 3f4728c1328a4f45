import { implicitRules } from '../../../domain/src';
import { RunningTallies, rulesAt } from './deposit-rules';

describe('rulesAt: a rule change applies to events that occur after it', () => {
  const v1 = { version: 1, effectiveFrom: new Date('2026-11-01T00:00:00.000Z'), rules: implicitRules({ alkaline: 2 }) };
  const v2 = { version: 2, effectiveFrom: new Date('2026-11-20T00:00:00.000Z'), rules: implicitRules({ alkaline: 5 }) };

  it.each([
    ['before any version: the implicit version 0', '2026-10-31T23:59:59.999Z', 0, 1],
    ['at the first version', '2026-11-01T00:00:00.000Z', 1, 2],
    ['between the two', '2026-11-19T23:59:59.999Z', 1, 2],
    ['after the change', '2026-11-20T00:00:00.000Z', 2, 5],
  ])('%s', (_, at, version, alkaline) => {
    const found = rulesAt([v1, v2], { alkaline: 1 }, new Date(at));
    expect(found.version).toBe(version);
    expect(found.rules.perUnit.alkaline).toBe(alkaline);
  });
});

describe('RunningTallies.periodsOf: caps count by the community’s calendar', () => {
  it.each([
    ['15:59 UTC on 31 Oct is still 31 Oct in Shanghai', '2026-10-31T15:59:59.000Z', '2026-10-31', '2026-10-01'],
    ['16:00 UTC on 31 Oct is 1 Nov in Shanghai: a new day and month', '2026-10-31T16:00:00.000Z', '2026-11-01', '2026-11-01'],
  ])('%s', (_, at, day, month) => {
    expect(RunningTallies.periodsOf(new Date(at), 'Asia/Shanghai')).toEqual({ day, month });
  });

  it('gives every instant of a quarter hour the same day, and the next quarter hour after local midnight the next day', () => {
    const before = RunningTallies.periodsOf(new Date('2026-10-31T15:45:00.000Z'), 'Asia/Shanghai');
    expect(RunningTallies.periodsOf(new Date('2026-10-31T15:59:59.999Z'), 'Asia/Shanghai')).toEqual(before);
    expect(RunningTallies.periodsOf(new Date('2026-10-31T16:00:00.000Z'), 'Asia/Shanghai').day).toBe('2026-11-01');
    expect(RunningTallies.periodsOf(new Date('2026-03-29T00:59:59.000Z'), 'Europe/Berlin').day).toBe('2026-03-29');
    expect(RunningTallies.periodsOf(new Date('2026-03-28T22:59:59.000Z'), 'Europe/Berlin').day).toBe('2026-03-28');
    expect(RunningTallies.periodsOf(new Date('2026-03-28T23:00:00.000Z'), 'Europe/Berlin').day).toBe('2026-03-29');
  });

  it('adds a deposit to its day and its month, and writes back only those cells', () => {
    const t = new RunningTallies();
    t.add('r1', '2026-11-01', '2026-11-01', 5, 3);
    t.add('r1', '2026-11-02', '2026-11-01', 2, 1);
    expect(t.get('r1', '2026-11-02', '2026-11-01')).toEqual({ dayPoints: 2, dayBatteries: 1, monthPoints: 7, monthBatteries: 4 });
    expect(t.rows()).toHaveLength(3);
  });
});
