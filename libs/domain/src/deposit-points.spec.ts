import { BATTERY_KINDS } from '../../protocol/src';
import { DEFAULT_DEPOSIT_POINTS_PER_UNIT, type DepositPointsPerUnit, depositPoints } from './deposit-points';

describe('depositPoints', () => {
  it.each([
    ['alkaline', 1],
    ['lithium', 3],
    ['button', 1],
    ['rechargeable', 2],
    ['other', 1],
  ] as const)('pays the default rate for one %s battery', (kind, points) => {
    expect(depositPoints([{ kind, count: 1 }], DEFAULT_DEPOSIT_POINTS_PER_UNIT)).toBe(points);
  });

  it('multiplies each kind by its count and sums the kinds', () => {
    const items = [
      { kind: 'alkaline', count: 5 },
      { kind: 'button', count: 2 },
      { kind: 'rechargeable', count: 4 },
      { kind: 'lithium', count: 3 },
    ] as const;
    expect(depositPoints([...items], DEFAULT_DEPOSIT_POINTS_PER_UNIT)).toBe(5 * 1 + 2 * 1 + 4 * 2 + 3 * 3);
  });

  it('adds up the same kind listed twice', () => {
    expect(
      depositPoints(
        [
          { kind: 'lithium', count: 2 },
          { kind: 'lithium', count: 5 },
        ],
        DEFAULT_DEPOSIT_POINTS_PER_UNIT,
      ),
    ).toBe(21);
  });

  it("uses a community's overriding rates", () => {
    const rates: DepositPointsPerUnit = { alkaline: 2, lithium: 7, button: 0, rechargeable: 5, other: 11 };
    expect(
      depositPoints(
        [
          { kind: 'alkaline', count: 3 },
          { kind: 'lithium', count: 1 },
          { kind: 'button', count: 9 },
          { kind: 'other', count: 2 },
        ],
        rates,
      ),
    ).toBe(3 * 2 + 7 + 0 + 2 * 11);
  });

  it('pays 500 of every kind without rounding', () => {
    const items = BATTERY_KINDS.map((kind) => ({ kind, count: 500 }));
    expect(depositPoints(items, DEFAULT_DEPOSIT_POINTS_PER_UNIT)).toBe(500 * (1 + 3 + 1 + 2 + 1));
  });

  it('keeps the defaults frozen so one community cannot change another’s rates', () => {
    expect(Object.isFrozen(DEFAULT_DEPOSIT_POINTS_PER_UNIT)).toBe(true);
  });
});
