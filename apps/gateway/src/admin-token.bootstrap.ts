import { randomBytes } from 'node:crypto';
import type { AdminTokenRepository } from '../../../libs/persistence/src';
import { hashAdminToken } from './http/admin-auth.guard';

export type AdminTokenState = { kind: 'from-env' } | { kind: 'generated'; token: string } | { kind: 'existing' };

/**
 * ADMIN_TOKEN, when set, becomes the bootstrap token. Otherwise the first start
 * makes one, stores only its hash and returns it to be printed once.
 */
export async function bootstrapAdminToken(tokens: AdminTokenRepository, fromEnv: string | undefined): Promise<AdminTokenState> {
  if (fromEnv !== undefined) {
    await tokens.put('bootstrap', hashAdminToken(fromEnv));
    return { kind: 'from-env' };
  }
  if ((await tokens.count()) > 0) return { kind: 'existing' };
  const token = `jf_${randomBytes(32).toString('base64url')}`;
  await tokens.put('bootstrap', hashAdminToken(token));
  return { kind: 'generated', token };
}
