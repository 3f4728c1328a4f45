import { DomainError } from '../../../../libs/domain/src';
import type { StaffActorRecord } from '../../../../libs/persistence/src';
import { hashApiToken } from '../../../../libs/persistence/src/registry/api-token-hash';
import { ActorCache } from './actor-cache';
import { TokenAuthenticator } from './token-authenticator';

const ADMIN_TOKEN = 'bootstrap-token-0123456789abcdef';
const CLERK_TOKEN = 'jfs_clerk-token-0123456789abcdef';

/** Plain-object stand-ins for the repositories: a map from token hash to holder. */
function setUp() {
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
  });
  return {
    authenticator,
    cache,
    staff,
    lookups: () => lookups,
    advance: (ms: number) => (now += ms),
  };
}

/** A fresh request each call, as each HTTP call is. */
function req(authorization: string | undefined) {
  return { headers: { authorization } };
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
    await expect(authenticator.authenticate(req(`Bearer ${ADMIN_TOKEN}`))).resolves.toEqual({
      userId: 'bootstrap',
      name: 'bootstrap',
      role: 'admin',
      label: 'staff:bootstrap',
      communityId: null,
    });
  });

  it('knows a staff token as its user, with role and community', async () => {
    const { authenticator } = setUp();
    await expect(authenticator.authenticate(req(`bearer ${CLERK_TOKEN}`))).resolves.toEqual({
      userId: 'u-1',
      name: 'wang.fang',
      role: 'clerk',
      label: 'staff:wang.fang',
      communityId: 'c-1',
    });
  });

  it('refuses a missing header or an unknown token with unauthorized, saying what to send', async () => {
    const { authenticator } = setUp();
    const missing = await failure(authenticator.authenticate(req(undefined)));
    expect(missing.code).toBe('unauthorized');
    expect(missing.message).toContain('Authorization: Bearer');
    const unknown = await failure(authenticator.authenticate(req('Bearer not-a-token-of-anyone')));
    expect(unknown.code).toBe('unauthorized');
    expect(unknown.message).toContain('ask an administrator');
  });

  it('remembers a good token for a while, and asks again once the cache is cleared', async () => {
    const { authenticator, cache, staff, lookups } = setUp();
    await authenticator.authenticate(req(`Bearer ${CLERK_TOKEN}`));
    await authenticator.authenticate(req(`Bearer ${CLERK_TOKEN}`));
    expect(lookups()).toBe(1);
    staff.clear(); // revoked in the database
    await expect(authenticator.authenticate(req(`Bearer ${CLERK_TOKEN}`))).resolves.toMatchObject({ role: 'clerk' });
    cache.clear(); // what revoking through this process does
    expect((await failure(authenticator.authenticate(req(`Bearer ${CLERK_TOKEN}`)))).code).toBe('unauthorized');
  });

  it('looks a cached token up again after the cache time', async () => {
    const { authenticator, staff, advance } = setUp();
    await authenticator.authenticate(req(`Bearer ${CLERK_TOKEN}`));
    staff.clear(); // revoked by another replica
    advance(10_001);
    expect((await failure(authenticator.authenticate(req(`Bearer ${CLERK_TOKEN}`)))).code).toBe('unauthorized');
  });

  it('asks once per request, however many guards ask', async () => {
    const { authenticator, lookups } = setUp();
    const request = req(`Bearer ${ADMIN_TOKEN}`);
    const first = await authenticator.identifyRequest(request);
    expect(first).toEqual({ actor: expect.objectContaining({ role: 'admin' }), tokenHash: hashApiToken(ADMIN_TOKEN) });
    await expect(authenticator.authenticate(request)).resolves.toBe(first.actor);
    expect(lookups()).toBe(1);
  });

  it('tells a missing token from a bad one', async () => {
    const { authenticator } = setUp();
    await expect(authenticator.identify(undefined)).resolves.toEqual({ actor: null, problem: 'no-token' });
    await expect(authenticator.identify('Basic abc')).resolves.toEqual({ actor: null, problem: 'no-token' });
    await expect(authenticator.identify('Bearer guess')).resolves.toEqual({ actor: null, problem: 'bad-token' });
  });
});
