import { housekeepingCutoffs } from './housekeeping';

describe('housekeepingCutoffs', () => {
  const now = new Date('2026-11-23T03:00:00.000Z');

  it('keeps day tallies for the lateness window plus two days, and the whole month of the oldest kept day', () => {
    expect(housekeepingCutoffs(now, { latenessDays: 7, claimWindowDays: 0, idempotencyDays: 7 })).toEqual({
      idempotencyBefore: new Date('2026-11-16T03:00:00.000Z'),
      dayTalliesBefore: '2026-11-14',
      monthTalliesBefore: '2026-11-01',
    });
  });

  it('keeps them longer when a community claims held deposits for longer than the lateness window', () => {
    const cut = housekeepingCutoffs(now, { latenessDays: 7, claimWindowDays: 30, idempotencyDays: 1 });
    expect(cut.dayTalliesBefore).toBe('2026-10-22');
    expect(cut.monthTalliesBefore).toBe('2026-10-01');
    expect(cut.idempotencyBefore).toEqual(new Date('2026-11-22T03:00:00.000Z'));
  });

  it('keeps the previous year’s December while a day of it is still needed', () => {
    const cut = housekeepingCutoffs(new Date('2027-01-05T00:00:00.000Z'), { latenessDays: 7, claimWindowDays: 0, idempotencyDays: 7 });
    expect(cut).toMatchObject({ dayTalliesBefore: '2026-12-27', monthTalliesBefore: '2026-12-01' });
  });
});
