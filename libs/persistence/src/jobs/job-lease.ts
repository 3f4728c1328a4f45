import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { JobLeaseRepository } from './job-lease.repository';

export type JobLeaseStore = Pick<JobLeaseRepository, 'claim' | 'renew' | 'complete' | 'fail'>;

export interface JobLeaseOptions {
  /** The job's name: one lease row, shared by every replica. */
  name: string;
  /** How often the job should run across all replicas. */
  periodMs: number;
  /** How long a claim lasts without renewal: a replica that dies mid-run frees the job after this. */
  leaseMs: number;
  /** After a failed run, the job is due again this much later (default: a tenth of the period, at least 1 s). */
  retryMs?: number;
  /** Who holds it; default host:pid:random, unique per process. */
  holder?: string;
}

export type LeasedRun<T> = { ran: false } | { ran: true; value: T; isLeaseLost: boolean };

/** host:pid:random, so two gateways on one host, or a restarted one, never share a holder id. */
export function replicaHolderId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * "Run this at most once per period across all replicas" over a lease row. A
 * replica calls `runIfDue` on its own timer (more often than the period); the
 * one that finds the job due and the lease free runs it, renewing the lease
 * while it works, and the others skip. In embedded mode the one process always
 * wins, which is what a single replica should do.
 */
export class JobLease {
  readonly holder: string;
  private readonly retryMs: number;

  constructor(
    private readonly store: JobLeaseStore,
    readonly options: JobLeaseOptions,
  ) {
    if (options.leaseMs < 100) throw new RangeError('a job lease shorter than 100 ms would expire between renewals');
    this.holder = options.holder ?? replicaHolderId();
    this.retryMs = options.retryMs ?? Math.max(1000, Math.round(options.periodMs / 10));
  }

  async runIfDue<T>(work: () => Promise<T>): Promise<LeasedRun<T>> {
    const { name, leaseMs, periodMs } = this.options;
    if (!(await this.store.claim(name, this.holder, leaseMs))) return { ran: false };
    let isLeaseLost = false;
    let renewing: Promise<void> = Promise.resolve();
    // Renew at a third of the lease, so two renewals can fail before it lapses.
    const renewal = setInterval(
      () => {
        renewing = this.store.renew(name, this.holder, leaseMs).then(
          (held) => {
            if (!held) isLeaseLost = true;
          },
          () => undefined, // a failed renewal is retried on the next beat
        );
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    renewal.unref();
    let value: T;
    try {
      value = await work();
    } catch (err) {
      clearInterval(renewal);
      await renewing;
      await this.store.fail(name, this.holder, this.retryMs, err instanceof Error ? err.message : String(err)).catch(() => false);
      throw err;
    }
    clearInterval(renewal);
    await renewing;
    if (!(await this.store.complete(name, this.holder, periodMs))) isLeaseLost = true;
    return { ran: true, value, isLeaseLost };
  }
}
