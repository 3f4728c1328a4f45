/**
 * Which failed transactions PostgreSQL invites us to run again, and how long to
 * wait first. Kept apart from database.ts (no driver imports) so that the
 * decision is unit-tested on its own.
 *
 * SQLSTATEs (PostgreSQL manual, appendix A):
 * - 40001 serialization_failure: a concurrent transaction made ours impossible
 *   to order; "applications should retry" (manual §13.4).
 * - 40P01 deadlock_detected: the server aborted us to break a cycle.
 * - 55P03 lock_not_available: our lock_timeout ran out waiting for a row or
 *   advisory lock that another replica held.
 * Not retried: 57014 query_canceled (statement_timeout: the same statement
 * would be just as slow again), constraint violations, connection loss (the
 * commit may or may not have happened; the caller's own retry and the
 * idempotency keys deal with that).
 */
export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01', '55P03']);

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Backoff before the second attempt; doubled for each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 500 };

/** The SQLSTATE of a driver error (pg puts it in `code`), or null. */
export function sqlStateOf(err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

export function isRetryableTransactionError(err: unknown): boolean {
  const state = sqlStateOf(err);
  return state !== null && RETRYABLE_SQLSTATES.has(state);
}

/**
 * The pause before attempt `attempt + 1` (attempt counts from 1), or null when
 * the error is not retryable or the attempts are used up. "Full jitter": a
 * uniform draw below the exponential cap, so replicas that collided once do not
 * collide again in lockstep.
 */
export function retryDelayMs(
  err: unknown,
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): number | null {
  if (attempt >= policy.maxAttempts || !isRetryableTransactionError(err)) return null;
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * (cap + 1));
}

export interface RetryHooks {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `attemptOnce` until it succeeds, fails for good, or the attempts run out.
 * `attemptOnce` must be a whole transaction (BEGIN … COMMIT, rolled back on error)
 * whose body keeps nothing outside the database between attempts.
 */
export async function withTransactionRetry<T>(
  attemptOnce: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  hooks: RetryHooks = {},
): Promise<T> {
  const sleep = hooks.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptOnce();
    } catch (err) {
      const delay = retryDelayMs(err, attempt, policy, hooks.random);
      if (delay === null) throw err;
      hooks.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
