import { createHash } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../../../libs/domain/src';
import { AdminTokenRepository } from '../../../../libs/persistence/src';
import type { RequestWithActor } from './roles';

export function hashAdminToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** `Authorization: Bearer <token>` against the stored token hashes. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly cache = new Map<string, { name: string; until: number }>();

  constructor(@Inject(AdminTokenRepository) private readonly tokens: AdminTokenRepository) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<RequestWithActor & { adminName?: string }>();
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) {
      throw new DomainError('unauthorized', 'missing admin token: send the header "Authorization: Bearer <token>"');
    }
    const hash = hashAdminToken(match[1]!);
    const cached = this.cache.get(hash);
    let name = cached && cached.until > Date.now() ? cached.name : null;
    if (name === null) {
      name = await this.tokens.findNameByHash(hash);
      if (name !== null) this.cache.set(hash, { name, until: Date.now() + 30_000 });
    }
    if (name === null) throw new DomainError('unauthorized', 'the admin token is not valid; check it, or ask for a new one');
    req.adminName = name;
    // Until staff users exist every token is the bootstrap admin's.
    req.actor = { userId: 'bootstrap', name, role: 'admin', label: `staff:${name}` };
    return true;
  }
}
