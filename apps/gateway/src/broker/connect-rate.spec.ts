import { ConnectRateLimiter } from './connect-rate';

describe('ConnectRateLimiter', () => {
  it('lets a burst through, then refuses until time refills the bucket', () => {
    let now = 0;
    const limiter = new ConnectRateLimiter(2, 3, () => now);
    expect([1, 2, 3, 4].map(() => limiter.allow('10.0.0.1'))).toEqual([true, true, true, false]);
    now = 499; // 0.998 of a token
    expect(limiter.allow('10.0.0.1')).toBe(false);
    now = 1000; // 0.998 + 1.002: two tokens
    expect([1, 2, 3].map(() => limiter.allow('10.0.0.1'))).toEqual([true, true, false]);
  });

  it('keeps addresses apart: one flooding address does not stop another', () => {
    const limiter = new ConnectRateLimiter(1, 1, () => 0);
    expect(limiter.allow('10.0.0.1')).toBe(true);
    expect(limiter.allow('10.0.0.1')).toBe(false);
    expect(limiter.allow('10.0.0.2')).toBe(true);
  });

  it('never holds more than maxAddresses buckets, forgetting the least recently seen', () => {
    const limiter = new ConnectRateLimiter(1, 1, () => 0, 2);
    limiter.allow('a');
    limiter.allow('b');
    limiter.allow('a'); // a is now the most recent (and empty)
    limiter.allow('c'); // b is forgotten
    expect(limiter.addresses).toBe(2);
    expect(limiter.allow('a')).toBe(false); // still remembered, still empty
    expect(limiter.allow('b')).toBe(true); // forgotten: a full bucket again
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new ConnectRateLimiter(0, 10)).toThrow(RangeError);
  });
});
