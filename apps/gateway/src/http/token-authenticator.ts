import { DomainError } from '../../../../libs/domain/src';
import type { AdminTokenRepository, StaffRepository } from '../../../../libs/persistence/src';
import { hashApiToken } from '../../../../libs/persistence/src/registry/api-token-hash';
import type { ActorCache } from './actor-cache';
import type { RateLimiter } from './rate-limiter';
import type { Actor } from './roles';

export interface TokenAuthenticatorDeps {
  adminTokens: Pick<AdminTokenRepository, 'findNameByHash'>;
  staff: Pick<StaffRepository, 'findActorByTokenHash'>;
  cache: ActorCache;
  limiter: RateLimiter;
}

/**
 * Who sends `Authorization: <header>`: the bootstrap admin token (role admin)
 * or an active staff token of an active user (the user's role and community).
 * Counts the call against the token's rate limit, or, without a good token,
 * against the caller's address, so that guessing tokens is slowed too.
 * Throws `unauthorized` or `rate-limited` (with `details.retryAfterSeconds`).
 */
export class TokenAuthenticator {
  constructor(private readonly deps: TokenAuthenticatorDeps) {}

  async authenticate(authorization: string | undefined, callerAddress: string | undefined): Promise<Actor> {
    const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
    if (!match) {
      this.limit(`ip:${callerAddress}`);
      throw new DomainError('unauthorized', 'no token was sent: send the header "Authorization: Bearer <your token>"');
    }
    const hash = hashApiToken(match[1]!);
    const actor = this.deps.cache.get(hash) ?? (await this.lookUp(hash));
    if (!actor) {
      this.limit(`ip:${callerAddress}`);
      throw new DomainError(
        'unauthorized',
        'this token is not valid: it may be mistyped or revoked, or its account switched off; ask an administrator for a new one',
      );
    }
    this.limit(`token:${hash}`);
    return actor;
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

  private limit(key: string): void {
    const decision = this.deps.limiter.take(key);
    if (decision.isAllowed) return;
    throw new DomainError('rate-limited', `too many requests; wait ${decision.retryAfterSeconds} seconds, then try again`, {
      retryAfterSeconds: decision.retryAfterSeconds,
    });
  }
}
