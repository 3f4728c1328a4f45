import { type PointsMovement, expiryState, lotExpiry, zonedMidnight } from './expiry';

const SH = 'Asia/Shanghai';
const at = (iso: string) => new Date(iso);
const earn = (iso: string, amount: number): PointsMovement => ({ at: at(iso), amount, isExpiry: false });
const spend = (iso: string, amount: number): PointsMovement => ({ at: at(iso), amount: -amount, isExpiry: false });
const expired = (iso: string, amount: number): PointsMovement => ({ at: at(iso), amount: -amount, isExpiry: true });

describe('lot expiry dates', () => {
  it('ends a year at local midnight: Shanghai new year is 16:00 UTC on 31 December', () => {
    expect(zonedMidnight(2027, 1, 1, SH).toISOString()).toBe('2026-12-31T16:00:00.000Z');
    expect(lotExpiry({ kind: 'year-end' }, at('2026-03-01T02:00:00.000Z'), SH).toISOString()).toBe('2026-12-31T16:00:00.000Z');
  });

  it('counts a point earned on 31 December after 16:00 UTC as next year’s in Shanghai', () => {
    expect(lotExpiry({ kind: 'year-end' }, at('2026-12-31T17:00:00.000Z'), SH).toISOString()).toBe('2027-12-31T16:00:00.000Z');
  });

  it('adds calendar months for the months policy', () => {
    expect(lotExpiry({ kind: 'months', months: 12 }, at('2026-01-15T00:00:00.000Z'), SH).toISOString()).toBe('2027-01-15T00:00:00.000Z');
  });
});

describe('expiryState', () => {
  const policy = { kind: 'months' as const, months: 6 };

  it('expires what was left unspent longest: spends use the oldest lot first', () => {
    const state = expiryState(
      [earn('2026-01-01T00:00:00Z', 10), earn('2026-03-01T00:00:00Z', 5), spend('2026-04-01T00:00:00Z', 8)],
      policy,
      SH,
      at('2026-07-15T00:00:00Z'),
    );
    // Lot 1 had 2 left on 1 July; lot 2 (5) expires on 1 September.
    expect(state.due).toBe(2);
    expect(state.upcoming).toEqual([{ expiresAt: at('2026-09-01T00:00:00Z'), points: 5 }]);
  });

  it('owes nothing once the expiry entry is posted', () => {
    const state = expiryState(
      [earn('2026-01-01T00:00:00Z', 10), expired('2026-07-02T00:00:00Z', 10)],
      policy,
      SH,
      at('2026-08-01T00:00:00Z'),
    );
    expect(state).toEqual({ due: 0, upcoming: [] });
  });

  it('lets a resident keep points spent after they expired but before the job ran', () => {
    const state = expiryState([earn('2026-01-01T00:00:00Z', 10), spend('2026-07-02T00:00:00Z', 4)], policy, SH, at('2026-07-03T00:00:00Z'));
    expect(state.due).toBe(6);
  });

  it('owes nothing when nothing has reached its date', () => {
    expect(expiryState([earn('2026-06-01T00:00:00Z', 3)], policy, SH, at('2026-07-01T00:00:00Z')).due).toBe(0);
  });
});
