import { RegistryCache } from './registry-cache';

describe('RegistryCache', () => {
  const reads: string[][] = [];
  const fetch = (missing: string[]) => {
    reads.push(missing);
    return Promise.resolve(new Map(missing.filter((id) => id !== 'unknown').map((id) => [id, `row ${id}`])));
  };
  beforeEach(() => reads.splice(0));

  it('reads only what it does not hold, and holds it for the ttl', async () => {
    const cache = new RegistryCache<string>(2000);
    expect(await cache.getMany(['a', 'b'], 0, fetch)).toEqual(
      new Map([
        ['a', 'row a'],
        ['b', 'row b'],
      ]),
    );
    expect(await cache.getMany(['a', 'c', 'c'], 1999, fetch)).toEqual(
      new Map([
        ['a', 'row a'],
        ['c', 'row c'],
      ]),
    );
    expect(reads).toEqual([['a', 'b'], ['c']]);
    await cache.getMany(['a'], 2000, fetch);
    expect(reads[2]).toEqual(['a']);
  });

  it('reads a forgotten id again at once, and never holds what the read did not find', async () => {
    const cache = new RegistryCache<string>(60_000);
    await cache.getMany(['a', 'unknown'], 0, fetch);
    cache.forget('a');
    expect(await cache.getMany(['a', 'unknown'], 1, fetch)).toEqual(new Map([['a', 'row a']]));
    expect(reads).toEqual([
      ['a', 'unknown'],
      ['a', 'unknown'],
    ]);
  });
});
