/**
 * How busy a community's bins and terminals are through the day, relative to the
 * day's mean (1.0): quiet at night, a morning rush when activities open (8–10 h),
 * a smaller peak after work (17–19 h). Hour of day, local time.
 */
const HOURLY_WEIGHT = [
  0.05, 0.03, 0.02, 0.02, 0.03, 0.1, 0.4, 1.2, 2.6, 2.4, 1.6, 1.3, 1.1, 1.0, 1.0, 1.1, 1.3, 1.9, 2.0, 1.5, 1.0, 0.6, 0.3, 0.1,
];
const MEAN = HOURLY_WEIGHT.reduce((a, b) => a + b, 0) / HOURLY_WEIGHT.length;

/** Relative arrival rate at `hour` (0 ≤ hour < 24, fractional), interpolated between whole hours. */
export function arrivalWeight(hour: number): number {
  const h = ((hour % 24) + 24) % 24;
  const lo = Math.floor(h);
  const frac = h - lo;
  const a = HOURLY_WEIGHT[lo]!;
  const b = HOURLY_WEIGHT[(lo + 1) % 24]!;
  return (a + (b - a) * frac) / MEAN;
}
