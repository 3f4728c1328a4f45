import { Histogram, Registry } from 'prom-client';
import { type BucketCounts, histogramFrom, observedBetween, quantileOf, summarizeBuckets } from './gateway-histogram';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

function registryWith(labelNames: string[] = []) {
  const registry = new Registry();
  const histogram = new Histogram({ name: 'x_seconds', help: 'x', buckets: BUCKETS, labelNames, registers: [registry] });
  return { registry, histogram };
}

describe('gateway histograms scraped from /metrics', () => {
  it('reads a prom-client histogram and sums its label sets', async () => {
    const { registry, histogram } = registryWith(['result']);
    histogram.observe({ result: 'credited' }, 0.003);
    histogram.observe({ result: 'credited' }, 0.03);
    histogram.observe({ result: 'rejected' }, 0.2);
    const h = histogramFrom(await registry.metrics(), 'x_seconds')!;
    expect(h.bounds).toEqual([...BUCKETS, Infinity]);
    expect(h.cumulative).toEqual([0, 0, 1, 1, 1, 2, 2, 3]);
    expect(h.count).toBe(3);
    expect(h.sum).toBeCloseTo(0.233, 9);
  });

  it('is null for a histogram the text does not have, and for a phase that observed nothing', async () => {
    const { registry } = registryWith();
    const text = await registry.metrics();
    expect(histogramFrom(text, 'y_seconds')).toBeNull();
    expect(summarizeBuckets(histogramFrom(text, 'x_seconds')!)).toBeNull();
  });

  it('counts only what a phase observed, between two scrapes', async () => {
    const { registry, histogram } = registryWith();
    for (let i = 0; i < 5; i++) histogram.observe(0.2);
    const before = histogramFrom(await registry.metrics(), 'x_seconds');
    for (let i = 0; i < 90; i++) histogram.observe(0.003);
    for (let i = 0; i < 10; i++) histogram.observe(0.03);
    const phase = observedBetween(before, histogramFrom(await registry.metrics(), 'x_seconds')!);
    expect(phase.count).toBe(100);
    // 90 in (2.5, 5] ms, 10 in (25, 50] ms: interpolated inside those buckets.
    expect(summarizeBuckets(phase)).toEqual({
      observations: 100,
      meanMs: 5.7,
      p50Ms: 3.89,
      p99Ms: 47.5,
      within25MsShare: 0.9,
      within50MsShare: 1,
    });
  });

  it('refuses two scrapes with different buckets', () => {
    const a: BucketCounts = { bounds: [0.01, Infinity], cumulative: [1, 1], count: 1, sum: 0.005 };
    const b: BucketCounts = { bounds: [0.02, Infinity], cumulative: [2, 2], count: 2, sum: 0.01 };
    expect(() => observedBetween(a, b)).toThrow('changed its buckets');
  });

  it('gives the highest finite bound as a floor when the quantile lies past it', () => {
    const h: BucketCounts = { bounds: [0.01, 0.1, Infinity], cumulative: [50, 90, 100], count: 100, sum: 30 };
    expect(quantileOf(h, 0.99)).toBe(0.1);
    expect(quantileOf(h, 0.5)).toBeCloseTo(0.01, 12);
  });
});
