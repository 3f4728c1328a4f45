import { arrivalWeight } from './arrival-curve';

describe('arrivalWeight', () => {
  it('averages 1 over the day', () => {
    let sum = 0;
    for (let i = 0; i < 24 * 60; i++) sum += arrivalWeight(i / 60);
    expect(sum / (24 * 60)).toBeCloseTo(1, 2);
  });

  it('has a morning rush far above the night', () => {
    expect(arrivalWeight(8.5)).toBeGreaterThan(2);
    expect(arrivalWeight(3)).toBeLessThan(0.05);
  });

  it('wraps around midnight', () => {
    expect(arrivalWeight(24.5)).toBeCloseTo(arrivalWeight(0.5));
    expect(arrivalWeight(-1)).toBeCloseTo(arrivalWeight(23));
  });
});
