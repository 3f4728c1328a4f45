import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { DomainError } from '../../../../libs/domain/src';
import { AdminTokenRepository, StaffRepository, hashApiToken } from '../../../../libs/persistence/src';
import { decideAccess } from './access-policy';
import { ActorCache } from './actor-cache';
import { RateLimiter } from './rate-limiter';
import { PUBLIC_KEY, ROLES_KEY, type RequestWithActor, type StaffRole } from './roles';
import { TokenAuthenticator } from './token-authenticator';

/** SHA-256 of a token: the bootstrap admin token and staff tokens are stored the same way. */
export function hashAdminToken(token: string): string {
  return hashApiToken(token);
}

/** Set once the token was checked and counted, so that a second guard does not count it twice. */
const AUTHENTICATED = Symbol('jifen:authenticated');

/**
 * `Authorization: Bearer <token>` (token-authenticator.ts), then the handler's
 * @Roles (access-policy.ts). Installed globally, so a controller that forgets
 * @UseGuards is still guarded; @Public() opts out (health).
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly authenticator: TokenAuthenticator;

  constructor(
    @Inject(AdminTokenRepository) adminTokens: AdminTokenRepository,
    @Inject(StaffRepository) staff: StaffRepository,
    @Inject(ActorCache) cache: ActorCache,
    @Inject(RateLimiter) limiter: RateLimiter,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {
    this.authenticator = new TokenAuthenticator({ adminTokens, staff, cache, limiter });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets)) return true;
    const req = context.switchToHttp().getRequest<RequestWithActor & { [AUTHENTICATED]?: true }>();
    if (!req[AUTHENTICATED] || !req.actor) {
      try {
        req.actor = await this.authenticator.authenticate(req.headers.authorization, req.ip);
      } catch (err) {
        if (err instanceof DomainError && err.code === 'rate-limited') {
          context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(err.details?.['retryAfterSeconds']));
        }
        throw err;
      }
      req[AUTHENTICATED] = true;
    }
    const roles = this.reflector.getAllAndOverride<StaffRole[] | undefined>(ROLES_KEY, targets);
    const decision = decideAccess(req.actor.role, req.method, roles);
    if (!decision.isAllowed) throw new DomainError('forbidden', decision.message, { role: req.actor.role });
    return true;
  }
}
