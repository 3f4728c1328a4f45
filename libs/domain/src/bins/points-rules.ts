import { z } from 'zod';
import { BATTERY_KINDS, type BatteryKind, type DepositEvent } from '../../../protocol/src';
import { DEFAULT_DEPOSIT_POINTS_PER_UNIT, type DepositPointsPerUnit } from '../deposit-points';

/**
 * A community's points rules for battery deposits, one version of them. Points
 * are whole numbers and nothing is rounded: per-unit rates are whole, and a
 * weight band gives whole points for the deposit's whole weight.
 */
const points = z.number().int('points are whole numbers').min(0).max(10_000);
const kindRecord = <T extends z.ZodType>(value: T) =>
  z.object(Object.fromEntries(BATTERY_KINDS.map((k) => [k, value])) as Record<BatteryKind, T>);

export const pointsRulesSchema = z.object({
  /** Points per battery, by kind. */
  perUnit: kindRecord(points),
  /**
   * Kinds counted by weight instead: a deposit made only of these kinds gets the
   * points of the highest band whose `fromGrams` its weight reaches (0 below the
   * first). A mixed deposit, or one without a weight, uses perUnit for them.
   */
  weightBands: z
    .object({
      kinds: z.array(z.enum(BATTERY_KINDS)).min(1),
      bands: z
        .array(z.object({ fromGrams: z.number().int().min(0), points }))
        .min(1)
        .refine((b) => b.every((band, i) => i === 0 || band.fromGrams > b[i - 1]!.fromGrams), 'bands must rise in fromGrams'),
    })
    .nullable()
    .default(null),
  /** Per resident, judged by occurredAt in the community's time zone; absent: no cap. */
  caps: z
    .object({
      dayPoints: points.optional(),
      monthPoints: points.optional(),
      dayBatteries: z.number().int().min(0).optional(),
      monthBatteries: z.number().int().min(0).optional(),
    })
    .default({}),
  /**
   * The reported count against the measured weight: typical grams per battery
   * (min, max) by kind and a tolerance. Outside it the deposit credits nothing
   * yet: its points wait for review. null: not checked.
   */
  plausibility: z
    .object({
      gramsPerUnit: kindRecord(z.tuple([z.number().min(0), z.number().min(0)]).refine(([lo, hi]) => lo <= hi, 'min must not exceed max')),
      tolerancePercent: z.number().min(0).max(100),
    })
    .nullable()
    .default(null),
});
export type PointsRules = z.infer<typeof pointsRulesSchema>;

/** Typical cell weights (AA alkaline ~23 g, 18650 lithium ~45 g, CR2032 ~3 g), wide enough for AAA to D cells. */
export const DEFAULT_GRAMS_PER_UNIT: Readonly<Record<BatteryKind, [number, number]>> = {
  alkaline: [8, 150],
  lithium: [2, 60],
  button: [0.5, 10],
  rechargeable: [10, 160],
  other: [1, 500],
};

/** Version 0 of a community with no rule versions yet: its per-unit rates, no caps, no checks. */
export function implicitRules(perUnit: Partial<DepositPointsPerUnit>): PointsRules {
  return { perUnit: { ...DEFAULT_DEPOSIT_POINTS_PER_UNIT, ...perUnit }, weightBands: null, caps: {}, plausibility: null };
}

/** What a resident has deposited in the event's local day and month before it. */
export interface DepositTally {
  dayPoints: number;
  monthPoints: number;
  dayBatteries: number;
  monthBatteries: number;
}

export const EMPTY_TALLY: Readonly<DepositTally> = Object.freeze({ dayPoints: 0, monthPoints: 0, dayBatteries: 0, monthBatteries: 0 });

export interface DepositJudgement {
  /** What the deposit is worth under the rules, before caps. */
  worth: number;
  /** What it earns now (≤ worth): capped. Credited, or pending when it needs review. */
  points: number;
  batteries: number;
  isCapped: boolean;
  /** Count and weight disagree: the points wait for a credit administrator. */
  review: string | null;
  /** The scale sent no weight: judged by count alone, flagged. */
  isWeightMissing: boolean;
}

function isByWeight(rules: PointsRules, items: DepositEvent['items']): boolean {
  return rules.weightBands !== null && items.every((i) => rules.weightBands!.kinds.includes(i.kind));
}

/** Points before caps. */
export function depositWorth(rules: PointsRules, items: DepositEvent['items'], weightGrams: number | undefined): number {
  if (weightGrams !== undefined && isByWeight(rules, items)) {
    let worth = 0;
    for (const band of rules.weightBands!.bands) if (weightGrams >= band.fromGrams) worth = band.points;
    return worth;
  }
  return items.reduce((sum, i) => sum + i.count * rules.perUnit[i.kind], 0);
}

/** Why count and weight disagree, or null when they fit (or are not checked). */
export function implausibility(rules: PointsRules, items: DepositEvent['items'], weightGrams: number | undefined): string | null {
  if (!rules.plausibility || weightGrams === undefined) return null;
  let lo = 0;
  let hi = 0;
  for (const item of items) {
    const [min, max] = rules.plausibility.gramsPerUnit[item.kind];
    lo += item.count * min;
    hi += item.count * max;
  }
  const slack = rules.plausibility.tolerancePercent / 100;
  const from = lo * (1 - slack);
  const to = hi * (1 + slack);
  if (weightGrams >= from && weightGrams <= to) return null;
  const counted = items.map((i) => `${i.count} ${i.kind}`).join(', ');
  return `weighed ${weightGrams} g for ${counted}: expected ${Math.round(from)}–${Math.round(to)} g`;
}

/**
 * One deposit under a rules version and the resident's tally of the day and
 * month so far. Batteries over a battery cap earn nothing (the first ones in
 * the deposit earn first); points are then held to the points caps. The
 * batteries are counted either way.
 */
export function judgeDeposit(
  rules: PointsRules,
  deposit: Pick<DepositEvent, 'items' | 'weightGrams'>,
  tally: Readonly<DepositTally>,
): DepositJudgement {
  const { items, weightGrams } = deposit;
  const batteries = items.reduce((sum, i) => sum + i.count, 0);
  const worth = depositWorth(rules, items, weightGrams);
  const { caps } = rules;
  let earning = worth;
  const batteriesLeft = Math.min(
    caps.dayBatteries === undefined ? Infinity : caps.dayBatteries - tally.dayBatteries,
    caps.monthBatteries === undefined ? Infinity : caps.monthBatteries - tally.monthBatteries,
  );
  if (batteriesLeft < batteries && !isByWeight(rules, items)) {
    // Only the batteries under the cap earn, in the order the bin listed them.
    let left = Math.max(0, batteriesLeft);
    earning = 0;
    for (const item of items) {
      const counted = Math.min(item.count, left);
      earning += counted * rules.perUnit[item.kind];
      left -= counted;
    }
  } else if (batteriesLeft <= 0) {
    earning = 0;
  }
  const pointsLeft = Math.min(
    caps.dayPoints === undefined ? Infinity : caps.dayPoints - tally.dayPoints,
    caps.monthPoints === undefined ? Infinity : caps.monthPoints - tally.monthPoints,
  );
  const earned = Math.max(0, Math.min(earning, pointsLeft));
  return {
    worth,
    points: earned,
    batteries,
    isCapped: earned < worth,
    review: implausibility(rules, items, weightGrams),
    isWeightMissing: weightGrams === undefined,
  };
}
