import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('allows a full minute of requests at once, then refuses with the seconds to wait for the next', () => {
    const limiter = new RateLimiter(60, clock);
    for (let i = 0; i < 60; i++) expect(limiter.take('token:a')).toEqual({ isAllowed: true });
    expect(limiter.take('token:a')).toEqual({ isAllowed: false, retryAfterSeconds: 1 });
  });

  it('refills at perMinute / 60 per second', () => {
    const limiter = new RateLimiter(6, clock); // one every 10 s
    for (let i = 0; i < 6; i++) limiter.take('k');
    expect(limiter.take('k')).toEqual({ isAllowed: false, retryAfterSeconds: 10 });
    now += 4_000;
    expect(limiter.take('k')).toEqual({ isAllowed: false, retryAfterSeconds: 6 });
    now += 6_000;
    expect(limiter.take('k')).toEqual({ isAllowed: true });
    expect(limiter.take('k').isAllowed).toBe(false);
  });

  it('counts each key on its own', () => {
    const limiter = new RateLimiter(1, clock);
    expect(limiter.take('token:a').isAllowed).toBe(true);
    expect(limiter.take('token:a').isAllowed).toBe(false);
    expect(limiter.take('token:b').isAllowed).toBe(true);
  });

  it('forgets idle keys once many are tracked, keeping the ones still counting', () => {
    const limiter = new RateLimiter(2, clock);
    limiter.take('busy');
    limiter.take('busy');
    for (let i = 0; i < 10_000; i++) limiter.take(`ip:${i}`);
    now += 120_000; // every bucket has refilled, including busy's
    limiter.take('fresh-1');
    limiter.take('busy');
    limiter.take('busy');
    limiter.take('fresh-2');
    expect(limiter.size).toBeLessThan(10);
    expect(limiter.take('busy').isAllowed).toBe(false);
  });
});
