import { EventEmitter } from 'node:events';

/** One refused login, as the broker (embedded aedes or EMQX's HTTP auth call) saw it. */
export interface AuthFailure {
  clientId: string;
  /** The username it tried, when it sent one; never the password. */
  username: string | null;
  /** The remote address, when the broker knows it. */
  address: string | null;
  reason: string;
  at: Date;
  source: 'embedded-broker' | 'broker-http-auth' | 'provisioning';
}

/** Emitted when one client id or one address reaches the threshold within the window. */
export interface RepeatedAuthFailures {
  clientId: string | null;
  address: string | null;
  count: number;
  windowSeconds: number;
}

export interface AuthFailureTrackerOptions {
  windowSeconds?: number;
  /** Failures within the window that make a `repeated` event. */
  threshold?: number;
  /** At most this many client ids and addresses are tracked each; the least recently failing go first. */
  maxKeys?: number;
  /** The most recent failures kept for the API. */
  recentLimit?: number;
}

interface Counter {
  times: number[];
  /** When the last `repeated` was emitted for this key: once per window, not once per failure. */
  reportedAt: number | null;
}

/**
 * Counts failed logins per client id and per remote address over a sliding
 * window, in bounded memory: each key keeps only its timestamps inside the
 * window, the key maps are capped (oldest activity evicted first) and the
 * recent list is a ring. Emits `repeated` when a key reaches the threshold,
 * then at most once per window while it keeps failing; part B's alert engine
 * subscribes to it.
 */
export class AuthFailureTracker extends EventEmitter<{ repeated: [RepeatedAuthFailures] }> {
  readonly windowSeconds: number;
  readonly threshold: number;
  private readonly maxKeys: number;
  private readonly recentLimit: number;
  private readonly byClientId = new Map<string, Counter>();
  private readonly byAddress = new Map<string, Counter>();
  private readonly recent: AuthFailure[] = [];
  private total = 0;

  constructor(options: AuthFailureTrackerOptions = {}) {
    super();
    this.windowSeconds = options.windowSeconds ?? 300;
    this.threshold = options.threshold ?? 5;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.recentLimit = options.recentLimit ?? 200;
  }

  get totalFailures(): number {
    return this.total;
  }

  record(failure: AuthFailure): void {
    this.total++;
    this.recent.push(failure);
    if (this.recent.length > this.recentLimit) this.recent.shift();
    const now = failure.at.getTime();
    if (failure.clientId) {
      const count = this.bump(this.byClientId, failure.clientId, now);
      if (count !== null) this.emit('repeated', { clientId: failure.clientId, address: null, count, windowSeconds: this.windowSeconds });
    }
    if (failure.address) {
      const count = this.bump(this.byAddress, failure.address, now);
      if (count !== null) this.emit('repeated', { clientId: null, address: failure.address, count, windowSeconds: this.windowSeconds });
    }
  }

  /** Newest first. */
  recentFailures(limit = this.recentLimit): AuthFailure[] {
    return this.recent.slice(-limit).reverse();
  }

  /** Keys with failures inside the window at `now`, most failures first. */
  counts(now: Date): { byClientId: { clientId: string; count: number }[]; byAddress: { address: string; count: number }[] } {
    const live = (map: Map<string, Counter>) =>
      [...map.entries()]
        .map(([key, c]) => [key, this.inWindow(c, now.getTime())] as const)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1]);
    return {
      byClientId: live(this.byClientId).map(([clientId, count]) => ({ clientId, count })),
      byAddress: live(this.byAddress).map(([address, count]) => ({ address, count })),
    };
  }

  get trackedKeys(): number {
    return this.byClientId.size + this.byAddress.size;
  }

  /** Adds a failure; returns the count if this one should be reported. */
  private bump(map: Map<string, Counter>, key: string, now: number): number | null {
    let counter = map.get(key);
    if (counter)
      map.delete(key); // re-inserted below: Map order is then least recently failing first
    else counter = { times: [], reportedAt: null };
    map.set(key, counter);
    if (map.size > this.maxKeys) map.delete(map.keys().next().value as string);
    const count = this.inWindow(counter, now) + 1;
    counter.times.push(now);
    // A key never needs more timestamps than the threshold to decide, so memory per key is bounded too.
    if (counter.times.length > this.threshold) counter.times.shift();
    const windowMs = this.windowSeconds * 1000;
    if (count < this.threshold) return null;
    if (counter.reportedAt !== null && now - counter.reportedAt < windowMs) return null;
    counter.reportedAt = now;
    return count;
  }

  private inWindow(counter: Counter, now: number): number {
    const from = now - this.windowSeconds * 1000;
    while (counter.times.length > 0 && counter.times[0]! <= from) counter.times.shift();
    return counter.times.length;
  }
}
