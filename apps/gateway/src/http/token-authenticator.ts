import { DomainError } from '../../../../libs/domain/src';
import type { AdminTokenRepository, StaffRepository } from '../../../../libs/persistence/src';
import { hashApiToken } from '../../../../libs/persistence/src/registry/api-token-hash';
import type { ActorCache } from './actor-cache';
import type { Actor } from './roles';

export interface TokenAuthenticatorDeps {
  adminTokens: Pick<AdminTokenRepository, 'findNameByHash'>;
  staff: Pick<StaffRepository, 'findActorByTokenHash'>;
  cache: ActorCache;
}

/** Who sent a request: the holder of a good token (and the token's hash), or why nobody. */
export type Identity = { actor: Actor; tokenHash: string } | { actor: null; problem: 'no-token' | 'bad-token' };

/**
 * Who sends `Authorization: <header>`: the bootstrap admin token (role admin)
 * or an active staff token of an active user (the user's role and community).
 * The rate limit (api-throttler.guard.ts) and the auth guard both ask, once per
 * request: the limit counts a good token's calls by its hash, and others by
 * the caller's address, so that guessing tokens is slowed too.
 */
export class TokenAuthenticator {
  private readonly byRequest = new WeakMap<object, Promise<Identity>>();

  constructor(private readonly deps: TokenAuthenticatorDeps) {}

  /** identify(), asked once per request however many guards ask. */
  identifyRequest(req: { headers: { authorization?: string | undefined } }): Promise<Identity> {
    let identity = this.byRequest.get(req);
    if (!identity) {
      identity = this.identify(req.headers.authorization);
      this.byRequest.set(req, identity);
    }
    return identity;
  }

  async identify(authorization: string | undefined): Promise<Identity> {
    const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
    if (!match) return { actor: null, problem: 'no-token' };
    const tokenHash = hashApiToken(match[1]!);
    const actor = this.deps.cache.get(tokenHash) ?? (await this.lookUp(tokenHash));
    return actor ? { actor, tokenHash } : { actor: null, problem: 'bad-token' };
  }

  /** The actor of a request, or `unauthorized` saying what to send. */
  async authenticate(req: { headers: { authorization?: string | undefined } }): Promise<Actor> {
    const identity = await this.identifyRequest(req);
    if (identity.actor) return identity.actor;
    if (identity.problem === 'no-token') {
      throw new DomainError('unauthorized', 'no token was sent: send the header "Authorization: Bearer <your token>"');
    }
    throw new DomainError(
      'unauthorized',
      'this token is not valid: it may be mistyped or revoked, or its account switched off; ask an administrator for a new one',
    );
  }

  private async lookUp(hash: string): Promise<Actor | null> {
    const adminName = await this.deps.adminTokens.findNameByHash(hash);
    let actor: Actor | null = null;
    if (adminName !== null) {
      actor = { userId: 'bootstrap', name: adminName, role: 'admin', label: `staff:${adminName}`, communityId: null };
    } else {
      const holder = await this.deps.staff.findActorByTokenHash(hash);
      if (holder) {
        actor = {
          userId: holder.userId,
          name: holder.name,
          role: holder.role,
          label: `staff:${holder.name}`,
          communityId: holder.communityId,
        };
      }
    }
    if (actor) this.deps.cache.set(hash, actor);
    return actor;
  }
}
