import { DomainError } from '../../../../libs/domain/src';
import type { ClaimResult, IdempotencyClaim, IdempotentRequestRecord, JsonValue } from '../../../../libs/persistence/src';
import { type Answer, IdempotentCalls, hashRequestBody, parseIdempotencyKey } from './idempotent-call';

/** The repository's contract in memory: the (actor, key) pair is the claim. */
class MemoryIdempotency {
  readonly rows = new Map<string, IdempotentRequestRecord>();
  now = 0;

  async claim(claim: IdempotencyClaim): Promise<ClaimResult> {
    const id = `${claim.actor}|${claim.key}`;
    const existing = this.rows.get(id);
    if (existing && !(existing.status === 0 && existing.createdAt.getTime() < this.now - claim.staleAfterMs)) {
      return { claimed: false, existing: { ...existing } };
    }
    const { staleAfterMs: _, ...row } = claim;
    this.rows.set(id, { ...row, status: 0, response: null, createdAt: new Date(this.now) });
    return { claimed: true };
  }

  async complete(actor: string, key: string, answer: { status: number; response: JsonValue }): Promise<void> {
    const row = this.rows.get(`${actor}|${key}`)!;
    this.rows.set(`${actor}|${key}`, { ...row, ...answer });
  }

  async release(actor: string, key: string): Promise<void> {
    if (this.rows.get(`${actor}|${key}`)?.status === 0) this.rows.delete(`${actor}|${key}`);
  }

  async find(actor: string, key: string): Promise<IdempotentRequestRecord | null> {
    const row = this.rows.get(`${actor}|${key}`);
    return row ? { ...row } : null;
  }
}

function setUp() {
  const repository = new MemoryIdempotency();
  const calls = new IdempotentCalls(repository, {
    waitMs: 1_000,
    pollMs: 50,
    staleAfterMs: 60_000,
    now: () => repository.now,
    // Waiting moves the clock and lets the other request go on.
    sleep: async (ms) => {
      repository.now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  });
  let runs = 0;
  const handler = (answer: Answer) => async () => {
    runs++;
    return answer;
  };
  return { repository, calls, handler, runs: () => runs };
}

const request = { actor: 'staff:li', key: 'k-1', method: 'POST', path: '/api/v1/residents', body: { name: '张三', communityId: 'c-1' } };

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('IdempotentCalls', () => {
  it('answers a retry with the first answer without running the handler again', async () => {
    const { calls, handler, runs } = setUp();
    const first = await calls.run(request, handler({ status: 201, body: { id: 'r-1' } }));
    const again = await calls.run(
      { ...request, body: { communityId: 'c-1', name: '张三' } },
      handler({ status: 201, body: { id: 'r-2' } }),
    );
    expect(first).toEqual({ status: 201, body: { id: 'r-1' }, isReplayed: false });
    expect(again).toEqual({ status: 201, body: { id: 'r-1' }, isReplayed: true });
    expect(runs()).toBe(1);
  });

  it('refuses the same key with another body, or for another route, with idempotency-key-reused', async () => {
    const { calls, handler, runs } = setUp();
    await calls.run(request, handler({ status: 201, body: { id: 'r-1' } }));
    const otherBody = await failure(calls.run({ ...request, body: { ...request.body, name: '李四' } }, handler({ status: 201, body: {} })));
    expect(otherBody.code).toBe('idempotency-key-reused');
    expect(otherBody.message).toContain('send a new key');
    const otherPath = await failure(calls.run({ ...request, path: '/api/v1/communities' }, handler({ status: 201, body: {} })));
    expect(otherPath.code).toBe('idempotency-key-reused');
    expect(runs()).toBe(1);
  });

  it('keeps keys of different actors apart', async () => {
    const { calls, handler, runs } = setUp();
    await calls.run(request, handler({ status: 201, body: { id: 'r-1' } }));
    const other = await calls.run({ ...request, actor: 'staff:wang' }, handler({ status: 201, body: { id: 'r-2' } }));
    expect(other).toEqual({ status: 201, body: { id: 'r-2' }, isReplayed: false });
    expect(runs()).toBe(2);
  });

  it('runs a concurrent duplicate once: the second waits for the first answer', async () => {
    const { calls } = setUp();
    let finish!: (answer: Answer) => void;
    let started = 0;
    const slow = () => {
      started++;
      return new Promise<Answer>((resolve) => (finish = resolve));
    };
    const first = calls.run(request, slow);
    const second = calls.run(request, slow);
    await new Promise((resolve) => setImmediate(resolve));
    finish({ status: 201, body: { id: 'r-1' } });
    expect(await first).toEqual({ status: 201, body: { id: 'r-1' }, isReplayed: false });
    expect(await second).toEqual({ status: 201, body: { id: 'r-1' }, isReplayed: true });
    expect(started).toBe(1);
  });

  it('answers 409 conflict when the first run is still working after the wait', async () => {
    const { calls } = setUp();
    void calls.run(request, () => new Promise<Answer>(() => undefined));
    await new Promise((resolve) => setImmediate(resolve));
    const busy = await failure(calls.run(request, async () => ({ status: 201, body: {} })));
    expect(busy.code).toBe('conflict');
    expect(busy.message).toContain('try again in a moment');
  });

  it('lets a retry run again when the first run failed, and stores nothing for the failure', async () => {
    const { calls, repository, handler, runs } = setUp();
    const failed = calls.run(request, async () => {
      throw new DomainError('validation-failed', 'name is required');
    });
    await expect(failed).rejects.toThrow('name is required');
    expect(repository.rows.size).toBe(0);
    expect(await calls.run(request, handler({ status: 201, body: { id: 'r-1' } }))).toMatchObject({ isReplayed: false });
    expect(runs()).toBe(1);
  });

  it('takes over a claim whose process died', async () => {
    const { calls, repository, handler, runs } = setUp();
    void calls.run(request, () => new Promise<Answer>(() => undefined)); // never answers: a crash
    await new Promise((resolve) => setImmediate(resolve));
    repository.now += 60_001;
    expect(await calls.run(request, handler({ status: 201, body: { id: 'r-1' } }))).toMatchObject({ isReplayed: false });
    expect(runs()).toBe(1);
  });
});

describe('parseIdempotencyKey', () => {
  it('accepts 1 to 200 characters and no header at all', () => {
    expect(parseIdempotencyKey(undefined)).toBeNull();
    expect(parseIdempotencyKey('a')).toBe('a');
    expect(parseIdempotencyKey('k'.repeat(200))).toHaveLength(200);
  });

  it.each([[''], ['k'.repeat(201)]])('refuses %j with validation-failed, saying what to send', (value) => {
    expect(() => parseIdempotencyKey(value)).toThrow(expect.objectContaining({ code: 'validation-failed' }));
    expect(() => parseIdempotencyKey(value)).toThrow(/1 to 200 characters/);
  });
});

describe('hashRequestBody', () => {
  it('is the same for the same body in any key order, and differs for another body', () => {
    expect(hashRequestBody({ a: 1, b: { c: 2, d: 3 } })).toBe(hashRequestBody({ b: { d: 3, c: 2 }, a: 1 }));
    expect(hashRequestBody({ a: 1 })).not.toBe(hashRequestBody({ a: 2 }));
    expect(hashRequestBody(undefined)).toBe(hashRequestBody(null));
  });

  it('hashes a raw upload by its bytes', () => {
    expect(hashRequestBody(Buffer.from('name\n张三\n'))).toBe(hashRequestBody(Buffer.from('name\n张三\n')));
    expect(hashRequestBody(Buffer.from('name\n张三\n'))).not.toBe(hashRequestBody(Buffer.from('name\n李四\n')));
  });
});
