import { createHash } from 'node:crypto';

/**
 * SHA-256 (hex) of an API token (the bootstrap admin's or a staff member's):
 * what is stored and looked up, never the token. Tokens are 256 random bits,
 * so a plain hash is enough (no slow password hash needed).
 */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
