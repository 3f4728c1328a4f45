import {
  DEFAULT_GRAMS_PER_UNIT,
  EMPTY_TALLY,
  type PointsRules,
  depositWorth,
  implausibility,
  implicitRules,
  judgeDeposit,
  pointsRulesSchema,
} from './points-rules';

const base = implicitRules({}); // alkaline 1, lithium 3, button 1, rechargeable 2, other 1
const withCaps = (caps: PointsRules['caps']): PointsRules => ({ ...base, caps });
const alkaline = (count: number) => ({ kind: 'alkaline' as const, count });
const lithium = (count: number) => ({ kind: 'lithium' as const, count });

describe('judgeDeposit: caps', () => {
  it.each([
    ['no cap', {}, EMPTY_TALLY, 10, false],
    ['under the day cap', { dayPoints: 20 }, { ...EMPTY_TALLY, dayPoints: 5 }, 10, false],
    ['reached mid-deposit: credited up to the cap', { dayPoints: 20 }, { ...EMPTY_TALLY, dayPoints: 14 }, 6, true],
    ['already at the cap: nothing', { dayPoints: 20 }, { ...EMPTY_TALLY, dayPoints: 20 }, 0, true],
    [
      'the month cap binds before the day cap',
      { dayPoints: 50, monthPoints: 100 },
      { ...EMPTY_TALLY, dayPoints: 0, monthPoints: 97 },
      3,
      true,
    ],
    ['a battery cap: only the batteries under it earn', { dayBatteries: 8 }, { ...EMPTY_TALLY, dayBatteries: 5 }, 3, true],
  ] as const)('%s', (_, caps, tally, points, isCapped) => {
    const judged = judgeDeposit(withCaps(caps), { items: [alkaline(10)], weightGrams: 230 }, tally);
    expect(judged).toMatchObject({ worth: 10, points, isCapped, batteries: 10 });
  });

  it('earns for the first batteries in the order the bin listed them when a battery cap cuts a mixed deposit', () => {
    // 2 lithium (3 each) then 4 alkaline (1 each); 3 batteries left: 2 lithium + 1 alkaline = 7.
    const judged = judgeDeposit(withCaps({ dayBatteries: 3 }), { items: [lithium(2), alkaline(4)] }, EMPTY_TALLY);
    expect(judged).toMatchObject({ worth: 10, points: 7, isCapped: true, batteries: 6 });
  });
});

describe('depositWorth: weight bands', () => {
  const banded: PointsRules = {
    ...base,
    weightBands: {
      kinds: ['other'],
      bands: [
        { fromGrams: 100, points: 2 },
        { fromGrams: 500, points: 5 },
      ],
    },
  };
  it.each([
    [99, 0],
    [100, 2],
    [499.9, 2],
    [500, 5],
    [4000, 5],
  ])('a deposit of only "other" weighing %p g is worth %p', (grams, worth) => {
    expect(depositWorth(banded, [{ kind: 'other', count: 3 }], grams)).toBe(worth);
  });

  it('uses per-unit rates for a mixed deposit or one without a weight', () => {
    expect(depositWorth(banded, [{ kind: 'other', count: 3 }, alkaline(2)], 600)).toBe(5);
    expect(depositWorth(banded, [{ kind: 'other', count: 3 }], undefined)).toBe(3);
  });
});

describe('implausibility', () => {
  const checked: PointsRules = {
    ...base,
    plausibility: { gramsPerUnit: { ...DEFAULT_GRAMS_PER_UNIT, alkaline: [20, 25] }, tolerancePercent: 10 },
  };
  it.each([
    ['at the low edge of the tolerance', 180, false],
    ['just below it', 179.9, true],
    ['at the high edge', 275, false],
    ['just above it', 275.1, true],
    ['far off: 10 cells that weigh 40 g', 40, true],
  ])('10 alkaline weighing %s (%p g) is implausible: %p', (_, grams, isOff) => {
    expect(implausibility(checked, [alkaline(10)], grams) !== null).toBe(isOff);
  });

  it('names the weight, the count and the expected range as the evidence', () => {
    expect(implausibility(checked, [alkaline(10)], 40)).toBe('weighed 40 g for 10 alkaline: expected 180–275 g');
  });

  it('judges a deposit without a weight by count alone, and flags it', () => {
    const judged = judgeDeposit(checked, { items: [alkaline(10)] }, EMPTY_TALLY);
    expect(judged).toMatchObject({ review: null, isWeightMissing: true, points: 10 });
  });
});

describe('pointsRulesSchema', () => {
  it('accepts the implicit rules and fills the defaults', () => {
    expect(pointsRulesSchema.parse({ perUnit: base.perUnit })).toEqual(base);
  });

  it.each([
    ['a fractional rate', { perUnit: { ...base.perUnit, lithium: 1.5 } }],
    ['a missing kind', { perUnit: { alkaline: 1 } }],
    [
      'bands not rising',
      {
        perUnit: base.perUnit,
        weightBands: {
          kinds: ['other'],
          bands: [
            { fromGrams: 5, points: 1 },
            { fromGrams: 5, points: 2 },
          ],
        },
      },
    ],
    [
      'a range with min above max',
      { perUnit: base.perUnit, plausibility: { gramsPerUnit: { ...DEFAULT_GRAMS_PER_UNIT, button: [5, 1] }, tolerancePercent: 5 } },
    ],
  ])('refuses %s', (_, rules) => {
    expect(pointsRulesSchema.safeParse(rules).success).toBe(false);
  });
});
