import { DomainError } from '../../../../libs/domain/src';
import type { StaffActorRecord } from '../../../../libs/persistence/src';
import { hashApiToken } from '../../../../libs/persistence/src/registry/api-token-hash';
import { ActorCache } from './actor-cache';
import { RateLimiter } from './rate-limiter';
import { TokenAuthenticator } from './token-authenticator';

const ADMIN_TOKEN = 'bootstrap-token-0123456789abcdef';
const CLERK_TOKEN = 'jfs_clerk-token-0123456789abcdef';

/** Plain-object stand-ins for the repositories: a map from token hash to holder. */
function setUp(options: { perMinute?: number } = {}) {
  let now = 1_000_000;
  const admins = new Map([[hashApiToken(ADMIN_TOKEN), 'bootstrap']]);
  const staff = new Map<string, StaffActorRecord>([
    [
      hashApiToken(CLERK_TOKEN),
      { userId: 'u-1', tokenId: 't-1', name: 'wang.fang', displayName: '王芳', role: 'clerk', communityId: 'c-1' },
    ],
  ]);
  let lookups = 0;
  const cache = new ActorCache(10_000, () => now);
  const authenticator = new TokenAuthenticator({
    adminTokens: {
      findNameByHash: async (hash) => {
        lookups++;
        return admins.get(hash) ?? null;
      },
    },
    staff: { findActorByTokenHash: async (hash) => staff.get(hash) ?? null },
    cache,
    limiter: new RateLimiter(options.perMinute ?? 600, () => now),
  });
  return {
    authenticator,
    cache,
    staff,
    lookups: () => lookups,
    advance: (ms: number) => (now += ms),
  };
}

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('TokenAuthenticator', () => {
  it('knows the bootstrap admin token as role admin of every community', async () => {
    const { authenticator } = setUp();
    await expect(authenticator.authenticate(`Bearer ${ADMIN_TOKEN}`, '10.0.0.1')).resolves.toEqual({
      userId: 'bootstrap',
      name: 'bootstrap',
      role: 'admin',
      label: 'staff:bootstrap',
      communityId: null,
    });
  });

  it('knows a staff token as its user, with role and community', async () => {
    const { authenticator } = setUp();
    await expect(authenticator.authenticate(`bearer ${CLERK_TOKEN}`, '10.0.0.1')).resolves.toEqual({
      userId: 'u-1',
      name: 'wang.fang',
      role: 'clerk',
      label: 'staff:wang.fang',
      communityId: 'c-1',
    });
  });

  it('refuses a missing header or an unknown token with unauthorized, saying what to send', async () => {
    const { authenticator } = setUp();
    const missing = await failure(authenticator.authenticate(undefined, '10.0.0.1'));
    expect(missing.code).toBe('unauthorized');
    expect(missing.message).toContain('Authorization: Bearer');
    const unknown = await failure(authenticator.authenticate('Bearer not-a-token-of-anyone', '10.0.0.1'));
    expect(unknown.code).toBe('unauthorized');
    expect(unknown.message).toContain('ask an administrator');
  });

  it('remembers a good token for a while, and asks again once the cache is cleared', async () => {
    const { authenticator, cache, staff, lookups } = setUp();
    await authenticator.authenticate(`Bearer ${CLERK_TOKEN}`, '10.0.0.1');
    await authenticator.authenticate(`Bearer ${CLERK_TOKEN}`, '10.0.0.1');
    expect(lookups()).toBe(1);
    staff.clear(); // revoked in the database
    await expect(authenticator.authenticate(`Bearer ${CLERK_TOKEN}`, '10.0.0.1')).resolves.toMatchObject({ role: 'clerk' });
    cache.clear(); // what revoking through this process does
    expect((await failure(authenticator.authenticate(`Bearer ${CLERK_TOKEN}`, '10.0.0.1'))).code).toBe('unauthorized');
  });

  it('looks a cached token up again after the cache time', async () => {
    const { authenticator, staff, advance } = setUp();
    await authenticator.authenticate(`Bearer ${CLERK_TOKEN}`, '10.0.0.1');
    staff.clear(); // revoked by another replica
    advance(10_001);
    expect((await failure(authenticator.authenticate(`Bearer ${CLERK_TOKEN}`, '10.0.0.1'))).code).toBe('unauthorized');
  });

  it('limits calls per token and tells how long to wait', async () => {
    const { authenticator } = setUp({ perMinute: 2 });
    await authenticator.authenticate(`Bearer ${CLERK_TOKEN}`, '10.0.0.1');
    await authenticator.authenticate(`Bearer ${CLERK_TOKEN}`, '10.0.0.2');
    const limited = await failure(authenticator.authenticate(`Bearer ${CLERK_TOKEN}`, '10.0.0.3'));
    expect(limited.code).toBe('rate-limited');
    expect(limited.details).toEqual({ retryAfterSeconds: 30 });
    // Another token is counted on its own.
    await expect(authenticator.authenticate(`Bearer ${ADMIN_TOKEN}`, '10.0.0.1')).resolves.toMatchObject({ role: 'admin' });
  });

  it('counts failed attempts against the caller address, so guessing tokens is slowed', async () => {
    const { authenticator } = setUp({ perMinute: 2 });
    await failure(authenticator.authenticate('Bearer guess-1', '10.0.0.9'));
    await failure(authenticator.authenticate('Bearer guess-2', '10.0.0.9'));
    expect((await failure(authenticator.authenticate('Bearer guess-3', '10.0.0.9'))).code).toBe('rate-limited');
    expect((await failure(authenticator.authenticate('Bearer guess-4', '10.0.0.8'))).code).toBe('unauthorized');
  });
});
