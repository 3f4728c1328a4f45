import type { AttendanceRepository } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';

/**
 * Closes attendance left open at an activity's end (issue #5: "never left
 * open"), every minute: each attendance still `in` once the activity has ended
 * (plus its check-out grace in hours mode) is closed under the activity's
 * auto-close policy and its points posted; the activity is then marked closed.
 * Safe on several replicas at once: each activity is closed in one transaction
 * that re-reads it under lock and skips it once closed, and each posting's
 * idempotency key names the attendance and its new total (issue #8 adds a lease
 * around runOnce so that only one replica does the work).
 */
export class AttendanceCloseJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly attendance: AttendanceRepository,
    private readonly logger: Logger,
    private readonly intervalMs = 60_000,
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.runOnce().catch((err: unknown) =>
        this.logger.error({ err }, 'closing ended activities failed; it runs again in a minute'),
      );
      this.timer = setTimeout(tick, this.intervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, Math.min(this.intervalMs, 5_000));
    this.timer.unref();
  }

  /** One pass: closes what has ended by `now` (a bounded number of activities per call; the next pass takes the rest). */
  async runOnce(now: Date = new Date()): Promise<void> {
    const run = await this.attendance.closeEnded(now);
    if (run.activities > 0) this.logger.info(run, 'ended activities closed');
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
