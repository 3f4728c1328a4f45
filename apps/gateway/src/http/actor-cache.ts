import type { Actor } from './roles';

/** How long a token's holder is remembered: other replicas see a revocation within this. */
export const ACTOR_CACHE_TTL_MS = 10_000;

/**
 * Token hash -> actor, for a few seconds, so that not every API call costs a
 * database lookup. Only good tokens are kept. Whoever revokes a token or
 * changes a user in this process clears it, so that takes effect at once.
 */
export class ActorCache {
  private readonly entries = new Map<string, { actor: Actor; until: number }>();

  constructor(
    private readonly ttlMs: number = ACTOR_CACHE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  get(tokenHash: string): Actor | undefined {
    const entry = this.entries.get(tokenHash);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.actor;
    this.entries.delete(tokenHash);
    return undefined;
  }

  set(tokenHash: string, actor: Actor): void {
    this.entries.set(tokenHash, { actor, until: this.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}
