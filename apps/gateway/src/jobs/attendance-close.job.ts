import { type AttendanceRepository, JobLease, type JobLeaseStore } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';
import { LeasedJob } from './leased-job';

export const ATTENDANCE_CLOSE_JOB_NAME = 'attendance-close';

/**
 * Closes attendance left open at an activity's end (issue #5: "never left
 * open"), every minute by default: each attendance still `in` once the
 * activity has ended (plus its check-out grace in hours mode) is closed under
 * the activity's auto-close policy and its points posted; the activity is then
 * marked closed. One replica does it at a time (the `attendance-close` lease);
 * a second run would be harmless anyway: each activity is closed in one
 * transaction that re-reads it under lock and skips it once closed, and each
 * posting's idempotency key names the attendance and its new total.
 */
export class AttendanceCloseJob {
  private readonly job: LeasedJob<void>;

  constructor(
    private readonly attendance: Pick<AttendanceRepository, 'closeEnded'>,
    leases: JobLeaseStore,
    private readonly logger: Logger,
    intervalMs = 60_000,
  ) {
    const lease = new JobLease(leases, {
      name: ATTENDANCE_CLOSE_JOB_NAME,
      periodMs: intervalMs,
      leaseMs: Math.max(5 * 60_000, intervalMs),
    });
    this.job = new LeasedJob(lease, () => this.runOnce(), logger, {
      checkEveryMs: Math.max(1000, Math.floor(intervalMs / 2)),
      firstCheckMs: Math.min(intervalMs, 5_000),
    });
  }

  start(): void {
    this.job.start();
  }

  /** One pass: closes what has ended by `now` (a bounded number of activities per call; the next pass takes the rest). */
  async runOnce(now: Date = new Date()): Promise<void> {
    const run = await this.attendance.closeEnded(now);
    if (run.activities > 0) this.logger.info(run, 'ended activities closed');
  }

  stop(): Promise<void> {
    return this.job.stop();
  }
}
