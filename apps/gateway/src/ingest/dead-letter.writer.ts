import type { DeadLetterInput, DeadLetterRepository } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';

/**
 * Writes dead letters in small batches off the ingest path: recording a bad
 * message must never slow down or block good ones. Bounded: past `maxPending`
 * the oldest unwritten letters are counted and logged instead of kept.
 */
export class DeadLetterWriter {
  private pending: DeadLetterInput[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private droppedTotal = 0;

  constructor(
    private readonly repository: DeadLetterRepository,
    private readonly logger: Logger,
    private readonly flushMs = 50,
    private readonly maxPending = 10_000,
  ) {}

  write(letter: DeadLetterInput): void {
    this.logger.warn({ deviceId: letter.deviceId, topic: letter.topic, reason: letter.reason }, 'dead letter');
    if (this.pending.length >= this.maxPending) {
      this.pending.shift();
      this.droppedTotal++;
      this.logger.error({ droppedTotal: this.droppedTotal }, 'dead-letter backlog full: oldest letter not stored');
    }
    this.pending.push(letter);
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing) await this.flushing;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    this.flushing = this.repository.insertMany(batch).catch((err: unknown) => {
      this.logger.error({ err, count: batch.length }, 'could not store dead letters; will retry');
      this.pending.unshift(...batch);
      this.timer ??= setTimeout(() => void this.flush(), 1000);
    });
    await this.flushing;
    this.flushing = null;
  }
}
