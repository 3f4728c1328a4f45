import type { ExpiryRepository } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';

/**
 * Posts expired points once an hour (and a minute after start) for every
 * community with an expiry policy. Running on several replicas at once is safe:
 * each expiry entry's idempotency key is the resident's expired total, so a
 * second replica replays instead of posting again (issue #8 adds a lease so only
 * one does the work).
 */
export class ExpiryJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly expiry: ExpiryRepository,
    private readonly logger: Logger,
    private readonly intervalMs = 60 * 60_000,
    private readonly firstRunMs = 60_000,
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.runOnce().catch((err: unknown) =>
        this.logger.error({ err }, 'points expiry run failed; it runs again next hour'),
      );
      this.timer = setTimeout(tick, this.intervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, this.firstRunMs);
    this.timer.unref();
  }

  async runOnce(now: Date = new Date()): Promise<void> {
    for (const communityId of await this.expiry.communitiesWithPolicy()) {
      const run = await this.expiry.run(communityId, now);
      if (run.pointsExpired > 0) this.logger.info(run, 'points expired');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
