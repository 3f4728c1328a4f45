import { DomainError } from '../../../../libs/domain/src';
import { apiThrottlerOptions, rateLimitKey, rateLimited, trackerOf } from './api-rate-limit';
import type { Actor } from './roles';

const actor: Actor = { userId: 'u-1', name: 'wang.fang', role: 'clerk', label: 'staff:wang.fang', communityId: 'c-1' };

describe('API rate limit', () => {
  it('counts a good token by its hash, and a bad token or none by the caller address', () => {
    expect(trackerOf({ actor, tokenHash: 'ab12' }, '10.0.0.1')).toBe('token:ab12');
    expect(trackerOf({ actor: null, problem: 'bad-token' }, '10.0.0.1')).toBe('ip:10.0.0.1');
    expect(trackerOf({ actor: null, problem: 'no-token' }, '10.0.0.2')).toBe('ip:10.0.0.2');
  });

  it('keys one allowance per caller, whatever the route', () => {
    expect(rateLimitKey('default', 'token:ab12')).toBe('default:token:ab12');
  });

  it('allows API_RATE_LIMIT_PER_MINUTE calls in any minute, without blocking longer', () => {
    expect(apiThrottlerOptions(600)).toEqual({ throttlers: [{ ttl: 60_000, limit: 600, blockDuration: 0 }] });
  });

  it('refuses with rate-limited, saying how many whole seconds to wait (at least one)', () => {
    const error = rateLimited(30);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'rate-limited', message: 'too many requests; wait 30 seconds, then try again' });
    expect(error.details).toEqual({ retryAfterSeconds: 30 });
    expect(rateLimited(0).details).toEqual({ retryAfterSeconds: 1 });
    expect(rateLimited(2.2).details).toEqual({ retryAfterSeconds: 3 });
  });
});
