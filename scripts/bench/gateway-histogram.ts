/**
 * What the gateway itself measured during a bench phase, from two scrapes of its
 * /metrics: the bench's own latency counts from an event's scheduled send to its
 * ack arriving at the device, which adds the bench client, the kernel and (scaled)
 * the broker's hops to the gateway's share. Both figures side by side say which
 * part a missed latency target is lost in.
 */

/** A Prometheus histogram: cumulative counts per upper bound in seconds, ascending, +Inf last. */
export interface BucketCounts {
  bounds: number[];
  cumulative: number[];
  count: number;
  sum: number;
}

export interface GatewayLatency {
  /** Observations in the phase (acks published, or batches committed). */
  observations: number;
  meanMs: number;
  /** Interpolated within their buckets, as Prometheus' histogram_quantile does: approximate. */
  p50Ms: number;
  p99Ms: number;
  /** Share of observations at or under 25 ms and 50 ms (the p99 targets): exact, these are bucket bounds. */
  within25MsShare: number | null;
  within50MsShare: number | null;
}

/**
 * The histogram `name` summed over its label sets, or null when the text has none.
 * Read by hand: parse-prometheus-text-format 1.1.1 lost every label set but one,
 * and their counts and sums, when `le` is not the last label (prom-client writes it first).
 */
export function histogramFrom(metricsText: string, name: string): BucketCounts | null {
  const byBound = new Map<number, number>();
  let count = 0;
  let sum = 0;
  let found = false;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(name + '_')) continue;
    const m = /^(\w+?)_(bucket|count|sum)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const value = Number(m[4]);
    found = true;
    if (m[2] === 'count') count += value;
    else if (m[2] === 'sum') sum += value;
    else {
      const le = /(?:^|,)le="([^"]*)"/.exec(m[3] ?? '')?.[1];
      if (le === undefined) throw new Error(`${name}: a bucket without its le label: ${line}`);
      const bound = le === '+Inf' ? Infinity : Number(le);
      byBound.set(bound, (byBound.get(bound) ?? 0) + value);
    }
  }
  if (!found) return null;
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  return { bounds, cumulative: bounds.map((b) => byBound.get(b)!), count, sum };
}

/** What was observed between two scrapes of one histogram (`before` null: since the start). */
export function observedBetween(before: BucketCounts | null, after: BucketCounts): BucketCounts {
  if (!before) return after;
  if (before.bounds.join() !== after.bounds.join()) throw new Error('the histogram changed its buckets between two scrapes');
  return {
    bounds: after.bounds,
    cumulative: after.cumulative.map((c, i) => c - before.cumulative[i]!),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/** The q-quantile (0..1) in seconds; in the +Inf bucket, the highest finite bound (a floor). */
export function quantileOf(h: BucketCounts, q: number): number {
  const rank = q * h.count;
  for (let i = 0; i < h.bounds.length; i++) {
    if (h.cumulative[i]! < rank) continue;
    const upper = h.bounds[i]!;
    const lower = i === 0 ? 0 : h.bounds[i - 1]!;
    if (upper === Infinity) return lower;
    const below = i === 0 ? 0 : h.cumulative[i - 1]!;
    const inBucket = h.cumulative[i]! - below;
    return inBucket === 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  }
  return h.bounds.filter(Number.isFinite).at(-1) ?? 0;
}

function shareWithin(h: BucketCounts, seconds: number): number | null {
  const i = h.bounds.findIndex((b) => Math.abs(b - seconds) < 1e-9);
  return i < 0 ? null : h.cumulative[i]! / h.count;
}

const ms = (seconds: number) => Math.round(seconds * 100_000) / 100;

/** The phase's figures, or null when nothing was observed. */
export function summarizeBuckets(h: BucketCounts): GatewayLatency | null {
  if (h.count <= 0) return null;
  return {
    observations: h.count,
    meanMs: ms(h.sum / h.count),
    p50Ms: ms(quantileOf(h, 0.5)),
    p99Ms: ms(quantileOf(h, 0.99)),
    within25MsShare: shareWithin(h, 0.025),
    within50MsShare: shareWithin(h, 0.05),
  };
}
