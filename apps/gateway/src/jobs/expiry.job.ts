import { type ExpiryRepository, type ExpiryRun, JobLease, type JobLeaseStore } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';
import { LeasedJob } from './leased-job';

export const EXPIRY_JOB_NAME = 'points-expiry';

export interface ExpiryJobOptions {
  periodMs?: number;
  /** How often each replica asks whether the run is due. */
  checkEveryMs?: number;
  firstCheckMs?: number;
  /** A replica that dies mid-run frees the job after this. */
  leaseMs?: number;
}

/**
 * Posts expired points once an hour for every community with an expiry
 * policy, on one replica at a time (the `points-expiry` lease, issue #8). A
 * second run would be harmless anyway: each expiry entry's idempotency key is
 * the resident's expired total, so it replays instead of posting again.
 */
export class ExpiryJob {
  private readonly job: LeasedJob<ExpiryRun[]>;

  constructor(
    private readonly expiry: ExpiryRepository,
    leases: JobLeaseStore,
    private readonly logger: Logger,
    options: ExpiryJobOptions = {},
  ) {
    const lease = new JobLease(leases, {
      name: EXPIRY_JOB_NAME,
      periodMs: options.periodMs ?? 60 * 60_000,
      leaseMs: options.leaseMs ?? 5 * 60_000,
    });
    this.job = new LeasedJob(lease, () => this.runOnce(), logger, {
      checkEveryMs: options.checkEveryMs ?? 60_000,
      firstCheckMs: options.firstCheckMs ?? 60_000,
    });
  }

  start(): void {
    this.job.start();
  }

  async runOnce(now: Date = new Date()): Promise<ExpiryRun[]> {
    const runs: ExpiryRun[] = [];
    for (const communityId of await this.expiry.communitiesWithPolicy()) {
      const run = await this.expiry.run(communityId, now);
      if (run.pointsExpired > 0) this.logger.info(run, 'points expired');
      runs.push(run);
    }
    return runs;
  }

  stop(): Promise<void> {
    return this.job.stop();
  }
}
