/**
 * Connects per remote address, as a token bucket: `burst` at once, then
 * `perSecond`. A flood of connects from one address (a misbehaving device in a
 * reconnect loop, or someone trying passwords) is refused before any password
 * is checked, so it costs no argon2 time and leaves other devices alone.
 * Memory is bounded: at most `maxAddresses` buckets, the least recently used
 * dropped first (a dropped bucket is a full one, the generous side).
 */
export class ConnectRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
    private readonly maxAddresses = 10_000,
  ) {
    if (perSecond <= 0 || burst < 1) throw new RangeError('a connect rate needs perSecond > 0 and burst ≥ 1');
  }

  /** Takes a token for this address; false when it has none left. */
  allow(address: string): boolean {
    const now = this.now();
    const found = this.buckets.get(address);
    const bucket = found ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    // Re-inserted: the Map's order is least recently used first.
    this.buckets.delete(address);
    this.buckets.set(address, bucket);
    if (this.buckets.size > this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  get addresses(): number {
    return this.buckets.size;
  }
}
