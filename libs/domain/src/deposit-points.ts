import type { BatteryKind, DepositEvent } from '../../protocol/src';

/** Points per battery by kind. A community may override any of them. */
export type DepositPointsPerUnit = Record<BatteryKind, number>;

/**
 * Defaults for a new community: lithium and rechargeable cells are worth more to
 * keep out of landfill than alkaline ones. The full, versioned rules (weight
 * bands, caps) belong to the battery-bin issue.
 */
export const DEFAULT_DEPOSIT_POINTS_PER_UNIT: Readonly<DepositPointsPerUnit> = Object.freeze({
  alkaline: 1,
  lithium: 3,
  button: 1,
  rechargeable: 2,
  other: 1,
});

/** Whole points for a deposit; each kind's rate is a whole number, so no rounding is needed. */
export function depositPoints(items: DepositEvent['items'], rates: Readonly<DepositPointsPerUnit>): number {
  let total = 0;
  for (const item of items) total += item.count * rates[item.kind];
  return total;
}
