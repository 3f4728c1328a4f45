/**
 * Registry rows the ingest path reads for every batch (devices, points rules),
 * reused for `ttlMs`: reading them costs more per batch than judging the events.
 * A change made through this process's API is seen at once (forget); one made
 * by another replica within ttlMs.
 */
export class RegistryCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(private readonly ttlMs: number) {}

  forget(id: string): void {
    this.entries.delete(id);
  }

  /** The values of `ids`: cached ones, and the rest read by `fetch` (what it does not return is not cached). */
  async getMany(ids: Iterable<string>, now: number, fetch: (missing: string[]) => Promise<Map<string, V>>): Promise<Map<string, V>> {
    const found = new Map<string, V>();
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const cached = this.entries.get(id);
      if (cached && cached.until > now) found.set(id, cached.value);
      else missing.push(id);
    }
    if (missing.length > 0) {
      for (const [id, value] of await fetch(missing)) {
        found.set(id, value);
        this.entries.set(id, { value, until: now + this.ttlMs });
      }
    }
    return found;
  }
}
