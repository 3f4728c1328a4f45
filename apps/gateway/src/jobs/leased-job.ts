import type { JobLease } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';

export interface LeasedJobOptions {
  /** How often this replica asks whether the job is due (the lease decides who runs it). */
  checkEveryMs: number;
  /** The first check after start. */
  firstCheckMs: number;
}

/**
 * A background job run at most once per period across replicas: every replica
 * checks on its own timer and the job's lease (libs/persistence JobLease) lets
 * one of them run it. One run at a time per replica; a failed run is logged and
 * tried again when the lease says so.
 */
export class LeasedJob<T> {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private isStopped = false;

  constructor(
    private readonly lease: JobLease,
    private readonly work: () => Promise<T>,
    private readonly logger: Logger,
    private readonly options: LeasedJobOptions,
    private readonly onRun: (value: T) => void = () => undefined,
  ) {}

  get name(): string {
    return this.lease.options.name;
  }

  start(): void {
    this.isStopped = false;
    this.schedule(this.options.firstCheckMs);
  }

  /** Runs the job now if it is due and free; what the timer does on every check. */
  async check(): Promise<boolean> {
    try {
      const run = await this.lease.runIfDue(this.work);
      if (!run.ran) return false;
      if (run.isLeaseLost) this.logger.warn({ job: this.name }, 'job ran past its lease and another replica may have run it too');
      this.onRun(run.value);
      return true;
    } catch (err) {
      this.logger.error({ err, job: this.name }, 'background job failed; the lease lets it run again later');
      return false;
    }
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.running = this.check().then(() => {
        if (!this.isStopped) this.schedule(this.options.checkEveryMs);
      });
    }, delayMs);
    this.timer.unref();
  }
}
