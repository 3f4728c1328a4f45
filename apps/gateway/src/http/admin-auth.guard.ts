import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '../../../../libs/domain/src';
import { hashApiToken } from '../../../../libs/persistence/src';
import { decideAccess } from './access-policy';
import { PUBLIC_KEY, ROLES_KEY, type RequestWithActor, type StaffRole } from './roles';
import { TokenAuthenticator } from './token-authenticator';

/** SHA-256 of a token: the bootstrap admin token and staff tokens are stored the same way. */
export function hashAdminToken(token: string): string {
  return hashApiToken(token);
}

/**
 * `Authorization: Bearer <token>` (token-authenticator.ts), then the handler's
 * @Roles (access-policy.ts). Installed globally, so a controller that forgets
 * @UseGuards is still guarded; @Public() opts out (health). Runs after the rate
 * limit (api-throttler.guard.ts), which has already asked who the caller is:
 * the token is looked up once per request.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    @Inject(TokenAuthenticator) private readonly authenticator: TokenAuthenticator,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets)) return true;
    const req = context.switchToHttp().getRequest<RequestWithActor>();
    req.actor = await this.authenticator.authenticate(req);
    const roles = this.reflector.getAllAndOverride<StaffRole[] | undefined>(ROLES_KEY, targets);
    const decision = decideAccess(req.actor.role, req.method, roles);
    if (!decision.isAllowed) throw new DomainError('forbidden', decision.message, { role: req.actor.role });
    return true;
  }
}
