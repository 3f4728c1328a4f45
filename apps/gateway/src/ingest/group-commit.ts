/**
 * Group commit (shared/ARCHITECTURE.md): items wait a few milliseconds, or until
 * a batch is full, and are committed together, `concurrency` batches at a time
 * (1 for PGlite, which runs one transaction at a time anyway). The queue is
 * bounded: `push` resolves only when there is room, and the MQTT consumer waits
 * for it before reading the next message, so an overloaded gateway slows its
 * devices down instead of growing its memory.
 */
export interface GroupCommitOptions<T> {
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  /** Batches committed at once (default 1). */
  concurrency?: number;
  /** Commits one batch. Must settle; a rejection is retried by the caller's policy. */
  commit: (batch: T[]) => Promise<void>;
  onError: (err: unknown, batch: T[]) => void;
}

export class GroupCommit<T> {
  private queue: T[] = [];
  /** Items waiting for room, in arrival order: admitted first-come first-served. */
  private waiters: { item: T; admitted: () => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private active = 0;
  private fillWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private committedTotal = 0;
  private batchesTotal = 0;

  constructor(private readonly options: GroupCommitOptions<T>) {}

  get depth(): number {
    return this.queue.length;
  }

  get stats() {
    return { queued: this.queue.length, waiting: this.waiters.length, committed: this.committedTotal, batches: this.batchesTotal };
  }

  /**
   * Resolves once the item is queued (not committed): the back-pressure point.
   * Items are queued in the order push() was called, also when some had to
   * wait for room: a later arrival never overtakes a waiting one, so one
   * device's events are judged in the order they arrived.
   */
  push(item: T): Promise<void> {
    if (this.waiters.length === 0 && this.queue.length < this.options.maxQueue) {
      this.enqueue(item);
      return Promise.resolve();
    }
    return new Promise<void>((admitted) => this.waiters.push({ item, admitted }));
  }

  private enqueue(item: T): void {
    this.queue.push(item);
    if (this.queue.length >= this.options.maxBatch) this.fillWaiters.slice().forEach((wake) => wake());
    this.schedule();
  }

  /** Moves waiting items into the room a taken batch left, oldest first. */
  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.queue.length < this.options.maxQueue) {
      const { item, admitted } = this.waiters.shift()!;
      this.queue.push(item);
      admitted();
    }
  }

  /** Resolves when a full batch is queued or after maxWaitMs, whichever comes first. */
  private fillOrTimeout(): Promise<void> {
    if (this.options.maxWaitMs <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.fillWaiters = this.fillWaiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, this.options.maxWaitMs);
      this.fillWaiters.push(done);
    });
  }

  /** Resolves when everything queued so far has been committed. */
  async drain(): Promise<void> {
    if (this.queue.length === 0 && this.waiters.length === 0 && this.active === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private get concurrency(): number {
    return this.options.concurrency ?? 1;
  }

  private schedule(): void {
    if (this.active >= this.concurrency) return; // a running loop picks the item up
    if (this.queue.length >= this.options.maxBatch) {
      this.start();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.start(), this.options.maxWaitMs);
    }
  }

  private start(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.active < this.concurrency && this.queue.length > 0) {
      this.active++;
      void this.loop().finally(() => {
        this.active--;
        if (this.queue.length > 0) this.schedule();
        else if (this.active === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
      });
    }
  }

  /** Keeps committing while items are waiting: under load, batches fill up by themselves. */
  private async loop(): Promise<void> {
    let isFirst = true;
    while (this.queue.length > 0) {
      // Under steady moderate load the loop never goes idle, so without this
      // wait each commit would take only what arrived during the previous one
      // (a few events), and a database with a high cost per transaction
      // (PGlite: ~5 ms) would spend its time on commits, not events.
      if (!isFirst && this.queue.length < this.options.maxBatch) await this.fillOrTimeout();
      isFirst = false;
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.admitWaiters();
      try {
        await this.options.commit(batch);
        this.committedTotal += batch.length;
        this.batchesTotal++;
      } catch (err) {
        this.options.onError(err, batch);
      }
    }
  }
}
