import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import { DomainError } from '../../../../libs/domain/src';
import type { Identity } from './token-authenticator';

/**
 * The throttler options for `perMinute` API calls per caller
 * (API_RATE_LIMIT_PER_MINUTE): at most that many in any minute. No block
 * beyond that: a call is let through again as soon as the oldest one of the
 * minute is a minute old, and refused calls are not counted.
 */
export function apiThrottlerOptions(perMinute: number): ThrottlerModuleOptions {
  return { throttlers: [{ ttl: 60_000, limit: perMinute, blockDuration: 0 }] };
}

/**
 * Whose allowance a call counts against: a good token's (by its hash, never
 * the token), or, without one, the caller address's, so guessing tokens is
 * slowed too.
 */
export function trackerOf(identity: Identity, callerAddress: string | undefined): string {
  return identity.actor ? `token:${identity.tokenHash}` : `ip:${callerAddress}`;
}

/** One allowance per caller across all routes (the throttler's own key is per route). */
export function rateLimitKey(throttlerName: string, tracker: string): string {
  return `${throttlerName}:${tracker}`;
}

/** 429 in the API's error shape (api-error.filter.ts). */
export function rateLimited(retryAfterSeconds: number): DomainError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new DomainError('rate-limited', `too many requests; wait ${seconds} seconds, then try again`, { retryAfterSeconds: seconds });
}
