import { Rng } from './rng';

describe('Rng', () => {
  it('repeats the same sequence for the same seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
  });

  it('gives other numbers for another seed and stays in [0, 1)', () => {
    const a = new Rng(1);
    const b = new Rng(2);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(b.next()).not.toBe(new Rng(1).next());
  });

  it('forks independent, repeatable streams by label', () => {
    expect(new Rng(7).fork('bin-1').next()).toBe(new Rng(7).fork('bin-1').next());
    expect(new Rng(7).fork('bin-1').next()).not.toBe(new Rng(7).fork('bin-2').next());
  });

  it('makes upper-case hex of the asked length', () => {
    expect(new Rng(3).hex(7)).toMatch(/^[0-9A-F]{14}$/);
  });
});
