import { GroupCommit, type GroupCommitOptions } from './group-commit';

interface PendingCommit {
  batch: string[];
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * A GroupCommit whose commits settle only when the test says so, recording every
 * batch it is given and every error it reports.
 */
function harness(options: Partial<Pick<GroupCommitOptions<string>, 'maxBatch' | 'maxWaitMs' | 'maxQueue' | 'concurrency'>> = {}) {
  const commits: PendingCommit[] = [];
  const errors: { err: unknown; batch: string[] }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const group = new GroupCommit<string>({
    maxBatch: 3,
    maxWaitMs: 10,
    maxQueue: 100,
    ...options,
    commit: (batch) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<void>((resolve, reject) => {
        commits.push({
          batch: [...batch],
          resolve: () => {
            inFlight--;
            resolve();
          },
          reject: (err: Error) => {
            inFlight--;
            reject(err);
          },
        });
      });
    },
    onError: (err, batch) => errors.push({ err, batch: [...batch] }),
  });
  return {
    group,
    commits,
    errors,
    batches: () => commits.map((c) => c.batch),
    maxInFlight: () => maxInFlight,
    /** Resolves the oldest unsettled commit. */
    async commitNext() {
      const next = commits.find((c) => !settled.has(c));
      if (!next) throw new Error('no commit is waiting');
      settled.add(next);
      next.resolve();
      await settle();
    },
    async failNext(err: Error) {
      const next = commits.find((c) => !settled.has(c));
      if (!next) throw new Error('no commit is waiting');
      settled.add(next);
      next.reject(err);
      await settle();
    },
  };
}
const settled = new WeakSet<PendingCommit>();

/** Lets every promise continuation that is ready run (no timers move). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Tracks whether a promise has settled yet, without awaiting it. */
function track(promise: Promise<unknown>): { readonly isDone: boolean } {
  const state = { isDone: false };
  void promise.then(() => {
    state.isDone = true;
  });
  return state;
}

const items = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `item-${from + i}`);

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('GroupCommit', () => {
  describe('batching', () => {
    it('commits a full batch at once without waiting for the timer', async () => {
      const h = harness({ maxBatch: 3, maxWaitMs: 1000 });
      for (const item of items(3)) await h.group.push(item);
      expect(h.batches()).toEqual([items(3)]);
    });

    it('never puts more than maxBatch items in one batch', async () => {
      const h = harness({ maxBatch: 3 });
      for (const item of items(10)) void h.group.push(item);
      await settle();
      while (h.commits.some((c) => !settled.has(c))) await h.commitNext();
      await jest.advanceTimersByTimeAsync(100);
      while (h.commits.some((c) => !settled.has(c))) await h.commitNext();

      for (const batch of h.batches()) expect(batch.length).toBeLessThanOrEqual(3);
      expect(h.batches()).toEqual([items(3, 0), items(3, 3), items(3, 6), items(1, 9)]);
    });

    it('commits a partial batch once maxWaitMs has passed, not before', async () => {
      const h = harness({ maxBatch: 5, maxWaitMs: 10 });
      await h.group.push('a');
      await jest.advanceTimersByTimeAsync(4);
      await h.group.push('b');
      await jest.advanceTimersByTimeAsync(5);
      expect(h.batches()).toEqual([]);

      await jest.advanceTimersByTimeAsync(1);
      expect(h.batches()).toEqual([['a', 'b']]);
    });

    it('starts a fresh wait for the next partial batch after a commit', async () => {
      const h = harness({ maxBatch: 5, maxWaitMs: 10 });
      await h.group.push('a');
      await jest.advanceTimersByTimeAsync(10);
      await h.commitNext();

      await h.group.push('b');
      await jest.advanceTimersByTimeAsync(9);
      expect(h.batches()).toEqual([['a']]);
      await jest.advanceTimersByTimeAsync(1);
      expect(h.batches()).toEqual([['a'], ['b']]);
    });

    it('after a commit, waits up to maxWaitMs for more before committing what arrived meanwhile', async () => {
      const h = harness({ maxBatch: 5, maxWaitMs: 10 });
      await h.group.push('a');
      await jest.advanceTimersByTimeAsync(10);
      await h.group.push('b');
      await h.commitNext();
      await h.group.push('c');
      await jest.advanceTimersByTimeAsync(9);
      expect(h.batches()).toEqual([['a']]);
      await jest.advanceTimersByTimeAsync(1);
      expect(h.batches()).toEqual([['a'], ['b', 'c']]);
    });

    it('after a commit, commits at once when a full batch is already waiting', async () => {
      const h = harness({ maxBatch: 2, maxWaitMs: 10 });
      await h.group.push('a');
      await jest.advanceTimersByTimeAsync(10);
      await h.group.push('b');
      await h.group.push('c');
      await h.commitNext();
      expect(h.batches()).toEqual([['a'], ['b', 'c']]);
    });
  });

  describe('one commit at a time', () => {
    it('does not start the next batch until the running commit has settled', async () => {
      const h = harness({ maxBatch: 2 });
      for (const item of items(6)) await h.group.push(item);
      await jest.advanceTimersByTimeAsync(1000);
      expect(h.commits).toHaveLength(1);

      await h.commitNext();
      expect(h.commits).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(1000);
      expect(h.commits).toHaveLength(2);

      await h.commitNext();
      await h.commitNext();
      expect(h.commits).toHaveLength(3);
      expect(h.maxInFlight()).toBe(1);
    });

    it('does not let the timer start a second commit while one is running', async () => {
      const h = harness({ maxBatch: 2, maxWaitMs: 10 });
      await h.group.push('a');
      await h.group.push('b');
      await h.group.push('c');
      await jest.advanceTimersByTimeAsync(50);
      expect(h.commits).toHaveLength(1);
      expect(h.maxInFlight()).toBe(1);
    });
  });

  describe('concurrent commits (PostgreSQL)', () => {
    it('runs up to `concurrency` batches at once and no more', async () => {
      const h = harness({ maxBatch: 2, concurrency: 2 });
      for (const item of items(8)) await h.group.push(item);
      await jest.advanceTimersByTimeAsync(1000);
      expect(h.commits).toHaveLength(2);
      expect(h.batches()).toEqual([
        ['item-0', 'item-1'],
        ['item-2', 'item-3'],
      ]);

      await h.commitNext();
      expect(h.commits).toHaveLength(3);
      expect(h.maxInFlight()).toBe(2);
    });

    it('drains only when every concurrent batch has committed', async () => {
      const h = harness({ maxBatch: 1, concurrency: 2 });
      await h.group.push('a');
      await h.group.push('b');
      const drained = track(h.group.drain());
      await h.commitNext();
      expect(drained.isDone).toBe(false);
      await h.commitNext();
      expect(drained.isDone).toBe(true);
    });
  });

  describe('back-pressure', () => {
    it('holds push() while the queue is at maxQueue', async () => {
      const h = harness({ maxBatch: 10, maxQueue: 2, maxWaitMs: 50 });
      await h.group.push('a');
      await h.group.push('b');
      const third = track(h.group.push('c'));
      await jest.advanceTimersByTimeAsync(49);
      expect(third.isDone).toBe(false);
      expect(h.group.depth).toBe(2);
    });

    it('releases a held push() as soon as a batch is taken, before it is committed', async () => {
      const h = harness({ maxBatch: 10, maxQueue: 2, maxWaitMs: 50 });
      await h.group.push('a');
      await h.group.push('b');
      const third = track(h.group.push('c'));
      await jest.advanceTimersByTimeAsync(50);
      expect(h.batches()).toEqual([['a', 'b']]);
      expect(third.isDone).toBe(true);
      expect(h.group.depth).toBe(1);
    });

    it('keeps held pushes waiting while a slow commit holds the queue full', async () => {
      const h = harness({ maxBatch: 2, maxQueue: 2 });
      await h.group.push('a');
      await h.group.push('b'); // taken at once as a full batch
      await h.group.push('c');
      await h.group.push('d');
      const fifth = track(h.group.push('e'));
      await jest.advanceTimersByTimeAsync(1000);
      expect(fifth.isDone).toBe(false);

      await h.commitNext();
      expect(fifth.isDone).toBe(true);
      expect(h.batches()).toEqual([
        ['a', 'b'],
        ['c', 'd'],
      ]);
    });

    it('never holds more than maxQueue items waiting', async () => {
      const h = harness({ maxBatch: 2, maxQueue: 3 });
      const pushes = items(12).map((item) => h.group.push(item));
      const depths: number[] = [];
      for (let round = 0; round < 12 && h.commits.some((c) => !settled.has(c)); round++) {
        depths.push(h.group.depth);
        await h.commitNext();
      }
      await Promise.all(pushes);
      expect(Math.max(...depths)).toBeLessThanOrEqual(3);
    });

    it('queues a push that arrives while others wait behind them, in arrival order', async () => {
      const h = harness({ maxBatch: 2, maxQueue: 2 });
      await h.group.push('a');
      await h.group.push('b'); // taken at once as a full batch
      await h.group.push('c');
      await h.group.push('d');
      const held = [track(h.group.push('e')), track(h.group.push('f'))];
      expect(h.group.stats.waiting).toBe(2);

      await h.commitNext(); // ['a','b'] done: ['c','d'] taken, 'e' and 'f' admitted
      // A newcomer now finds room (one slot per admitted item was taken) but must not overtake.
      const late = track(h.group.push('g'));
      await h.commitNext();
      await h.commitNext();
      await jest.advanceTimersByTimeAsync(1000); // 'g' alone waits maxWaitMs for company
      await h.commitNext();
      expect(held.every((p) => p.isDone) && late.isDone).toBe(true);
      expect(h.batches().flat()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
      expect(h.group.stats.waiting).toBe(0);
    });
  });

  describe('drain', () => {
    it('resolves at once when nothing is queued or running', async () => {
      const h = harness();
      const drained = track(h.group.drain());
      await settle();
      expect(drained.isDone).toBe(true);
    });

    it('resolves only after every queued item has been committed', async () => {
      const h = harness({ maxBatch: 2, maxWaitMs: 10 });
      for (const item of items(5)) await h.group.push(item);
      const drained = track(h.group.drain());

      await h.commitNext();
      expect(drained.isDone).toBe(false);
      await h.commitNext();
      expect(drained.isDone).toBe(false);
      await jest.advanceTimersByTimeAsync(10);
      expect(drained.isDone).toBe(false);
      await h.commitNext();
      expect(drained.isDone).toBe(true);
      expect(h.batches().flat()).toEqual(items(5));
    });

    it('waits for a partial batch that is still waiting for its timer', async () => {
      const h = harness({ maxBatch: 5, maxWaitMs: 10 });
      await h.group.push('a');
      const drained = track(h.group.drain());
      await jest.advanceTimersByTimeAsync(10);
      expect(drained.isDone).toBe(false);
      await h.commitNext();
      expect(drained.isDone).toBe(true);
    });

    it('also waits for items pushed after drain() was called', async () => {
      const h = harness({ maxBatch: 2 });
      await h.group.push('a');
      await h.group.push('b');
      const drained = track(h.group.drain());
      await h.group.push('c');
      await h.commitNext();
      expect(drained.isDone).toBe(false);
      await jest.advanceTimersByTimeAsync(1000); // 'c' waits for company, then goes alone
      await h.commitNext();
      expect(drained.isDone).toBe(true);
    });
  });

  describe('order', () => {
    it('commits items in the order they were pushed, across batches and back-pressure', async () => {
      const h = harness({ maxBatch: 3, maxQueue: 4 });
      const all = items(25);
      const pushes = all.map((item) => h.group.push(item));
      for (let round = 0; round < 50 && h.commits.some((c) => !settled.has(c)); round++) {
        await h.commitNext();
        await jest.advanceTimersByTimeAsync(10);
      }
      await Promise.all(pushes);
      expect(h.batches().flat()).toEqual(all);
      expect(h.batches().length).toBeGreaterThan(1);
    });

    it('commits a producer’s items in order when it awaits each push', async () => {
      const h = harness({ maxBatch: 4, maxQueue: 2 });
      const all = items(15);
      const producer = (async () => {
        for (const item of all) await h.group.push(item);
      })();
      for (let round = 0; round < 50 && !(await isSettled(producer)); round++) {
        if (h.commits.some((c) => !settled.has(c))) await h.commitNext();
        await jest.advanceTimersByTimeAsync(10);
      }
      while (h.commits.some((c) => !settled.has(c))) {
        await h.commitNext();
        await jest.advanceTimersByTimeAsync(10);
      }
      expect(h.batches().flat()).toEqual(all);
    });
  });

  describe('a failed commit', () => {
    it('reports the error with exactly the failed batch', async () => {
      const h = harness({ maxBatch: 2 });
      await h.group.push('a');
      await h.group.push('b');
      const boom = new Error('database unavailable');
      await h.failNext(boom);
      expect(h.errors).toEqual([{ err: boom, batch: ['a', 'b'] }]);
    });

    it('still commits the batches queued behind it', async () => {
      const h = harness({ maxBatch: 2 });
      for (const item of items(4)) await h.group.push(item);
      await h.failNext(new Error('serialization failure'));
      expect(h.batches()).toEqual([items(2, 0), items(2, 2)]);
      await h.commitNext();
      expect(h.errors.map((e) => e.batch)).toEqual([items(2, 0)]);
      expect(h.group.stats).toEqual({ queued: 0, waiting: 0, committed: 2, batches: 1 });
    });

    it('still commits items pushed after it', async () => {
      const h = harness({ maxBatch: 2 });
      await h.group.push('a');
      await h.group.push('b');
      await h.failNext(new Error('boom'));
      await h.group.push('c');
      await h.group.push('d');
      expect(h.batches()).toEqual([
        ['a', 'b'],
        ['c', 'd'],
      ]);
    });

    it('does not keep drain() waiting', async () => {
      const h = harness({ maxBatch: 2 });
      await h.group.push('a');
      await h.group.push('b');
      const drained = track(h.group.drain());
      await h.failNext(new Error('boom'));
      expect(drained.isDone).toBe(true);
    });
  });
});

async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const winner = await Promise.race([promise.then(() => true), Promise.resolve(marker)]);
  return winner !== marker;
}
