import { FlakyLink, parseFlakySettings } from './flaky-link';
import { Rng } from './rng';

describe('FlakyLink', () => {
  function runThrough(settings: Parameters<typeof parseFlakySettings>[0], n: number) {
    const delayed: (() => void)[] = [];
    const link = new FlakyLink(parseFlakySettings(settings), new Rng(5), (fn) => delayed.push(fn));
    let delivered = 0;
    for (let i = 0; i < n; i++) link.transmit(() => delivered++);
    delayed.forEach((fn) => fn());
    return { delivered, counters: link.counters };
  }

  it('delivers each message exactly once when there are no faults', () => {
    expect(runThrough('loss=0,dup=0,reorder=0,delay=0', 500)).toEqual({
      delivered: 500,
      counters: { lost: 0, duplicated: 0, reordered: 0 },
    });
  });

  it('loses and repeats messages by the given shares, and the counts add up', () => {
    const { delivered, counters } = runThrough('loss=0.2,dup=0.1,reorder=0,delay=0', 2000);
    expect(counters.lost).toBeGreaterThan(300);
    expect(counters.lost).toBeLessThan(500);
    expect(counters.duplicated).toBeGreaterThan(100);
    expect(delivered).toBe(2000 - counters.lost + counters.duplicated);
  });
});

describe('parseFlakySettings', () => {
  it('takes the defaults for a bare flag', () => {
    expect(parseFlakySettings('true').loss).toBeGreaterThan(0);
  });

  it('names what is wrong with a bad setting', () => {
    expect(() => parseFlakySettings('loss=2')).toThrow(/between 0 and 0.9/);
    expect(() => parseFlakySettings('jitter=1')).toThrow(/unknown setting "jitter"/);
    expect(() => parseFlakySettings('loss=abc')).toThrow(/must be name=number/);
  });
});
