import { type HousekeepingRepository, type HousekeepingRun, JobLease, type JobLeaseStore } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';
import { housekeepingCutoffs } from './housekeeping';
import { LeasedJob } from './leased-job';

export const HOUSEKEEPING_JOB_NAME = 'housekeeping';

/** Once a day, on one replica: prunes what housekeepingCutoffs says no one can need. */
export class HousekeepingJob {
  private readonly job: LeasedJob<HousekeepingRun>;

  constructor(
    private readonly repository: Pick<HousekeepingRepository, 'prune' | 'longestClaimWindowDays'>,
    leases: JobLeaseStore,
    private readonly logger: Logger,
    private readonly keep: { latenessDays: number; idempotencyDays: number },
  ) {
    const lease = new JobLease(leases, { name: HOUSEKEEPING_JOB_NAME, periodMs: 24 * 60 * 60_000, leaseMs: 10 * 60_000 });
    this.job = new LeasedJob(lease, () => this.runOnce(), logger, { checkEveryMs: 15 * 60_000, firstCheckMs: 5 * 60_000 });
  }

  start(): void {
    this.job.start();
  }

  async runOnce(now: Date = new Date()): Promise<HousekeepingRun> {
    const claimWindowDays = await this.repository.longestClaimWindowDays();
    const run = await this.repository.prune(housekeepingCutoffs(now, { ...this.keep, claimWindowDays }));
    this.logger.info(run, 'housekeeping: pruned idempotency answers and deposit tallies');
    return run;
  }

  stop(): Promise<void> {
    return this.job.stop();
  }
}
