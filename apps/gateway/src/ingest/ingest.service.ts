import {
  deviceTopic,
  decodePayload,
  deviceEventSchema,
  invalidEventReason,
  readableEventId,
  statusSchema,
  telemetrySchema,
  type Status,
  type Telemetry,
} from '../../../../libs/protocol/src';
import type { IngestAck, IngestItem, IngestRepository } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';
import type { DeadLetterWriter } from './dead-letter.writer';
import type { DeviceLivenessTracker } from './device-liveness';
import { GroupCommit } from './group-commit';
import type { DeviceMessage } from './mqtt-ingest.server';
import { RecentAcks } from './recent-acks';

export interface AckSink {
  publish(topic: string, payload: string): Promise<void>;
}

export interface IngestServiceOptions {
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  concurrency?: number;
  /** Pauses between commit attempts; after the last one the batch is split. */
  retryDelaysMs?: readonly number[];
  /** Sees each valid telemetry reading (the BinWatcher: fill alerts, faults); must not throw. */
  telemetryObserver?: { sawTelemetry(deviceId: string, telemetry: Telemetry, at: Date): void; isFull?(deviceId: string): boolean };
  observers?: IngestObserver[];
  /** Acks kept in memory to answer resends without the database (default DEFAULT_RECENT_ACKS; 0 = none). */
  recentAcks?: number;
}

/**
 * About 20 MB of acks: 8 s of events at 8,000 a second, a device's first
 * resend comes after 10 s (PROTOCOL.md), later ones find the database.
 */
export const DEFAULT_RECENT_ACKS = 65_536;

/**
 * Sees the ingest path without being on it (device health, metrics): called
 * synchronously, must be cheap and must not throw.
 */
export interface IngestObserver {
  eventReceived?(deviceId: string, receivedAt: Date, occurredAt: Date | undefined): void;
  telemetryReceived?(deviceId: string, telemetry: Telemetry, receivedAt: Date): void;
  statusReceived?(deviceId: string, status: Status, receivedAt: Date, isRetained: boolean): void;
  batchCommitted?(size: number, seconds: number): void;
  /** `ack` is the published JSON; receivedAt is when its event arrived. */
  ackPublished?(deviceId: string, eventId: string, ack: string, receivedAt: Date): void;
}

interface Queued {
  item: IngestItem;
  message: DeviceMessage;
  key: string;
}

const keyOf = (deviceId: string, eventId: string) => `${deviceId}\u0000${eventId}`;

const DEFAULT_RETRY_DELAYS_MS = [50, 200, 1000];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * From a device message to a committed outcome and a published ack. Never throws
 * at the broker: bad input becomes a rejected ack or a dead letter.
 */
export class IngestService {
  private readonly batcher: GroupCommit<Queued>;
  private acksPublished = 0;
  /** Acks handed to the broker link and not yet settled; drain() waits for them. */
  private acksUnsettled = 0;
  private acksSettledWaiters: (() => void)[] = [];
  /** Events queued or being committed: a resend of one of them is dropped, its ack is on the way. */
  private readonly inFlight = new Set<string>();
  private readonly recentAcks: RecentAcks;
  private resendsDropped = 0;
  private resendsAnsweredFromMemory = 0;
  private readonly retryDelaysMs: readonly number[];
  private readonly telemetryObserver: IngestServiceOptions['telemetryObserver'];
  private readonly observers: IngestObserver[];

  constructor(
    private readonly repository: IngestRepository,
    private readonly acks: AckSink,
    private readonly deadLetters: DeadLetterWriter,
    private readonly liveness: DeviceLivenessTracker,
    private readonly logger: Logger,
    options: IngestServiceOptions,
  ) {
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.telemetryObserver = options.telemetryObserver;
    this.observers = options.observers ?? [];
    this.recentAcks = new RecentAcks(options.recentAcks ?? DEFAULT_RECENT_ACKS);
    this.batcher = new GroupCommit<Queued>({
      maxBatch: options.maxBatch,
      maxWaitMs: options.maxWaitMs,
      maxQueue: options.maxQueue,
      concurrency: options.concurrency ?? 1,
      commit: (batch) => this.commit(batch),
      onError: (err, batch) => this.logger.error({ err, size: batch.length }, 'batch lost after retries; devices will resend'),
    });
  }

  get stats() {
    return {
      ...this.batcher.stats,
      acksPublished: this.acksPublished,
      resendsDropped: this.resendsDropped,
      resendsAnsweredFromMemory: this.resendsAnsweredFromMemory,
    };
  }

  /** Resolves when the event is queued; the ack follows the commit. */
  async receiveEvent(message: DeviceMessage): Promise<void> {
    this.liveness.sawEvent(message.deviceId, message.receivedAt);
    const decoded = decodePayload(message.payload, deviceEventSchema);
    const occurredAt = decoded.ok ? new Date(decoded.value.occurredAt) : undefined;
    for (const o of this.observers) o.eventReceived?.(message.deviceId, message.receivedAt, occurredAt);
    if (decoded.ok) {
      const key = keyOf(message.deviceId, decoded.value.eventId);
      if (this.isAnswered(message, decoded.value.eventId, key)) return;
      return this.batcher.push({
        message,
        key,
        item: {
          kind: 'valid',
          deviceId: message.deviceId,
          event: decoded.value,
          receivedAt: message.receivedAt,
          ...(this.telemetryObserver?.isFull?.(message.deviceId) ? { isBinFull: true } : {}),
        },
      });
    }
    const eventId = readableEventId(decoded);
    if (eventId !== null && decoded.error === 'schema') {
      const reason = invalidEventReason(decoded);
      const key = keyOf(message.deviceId, eventId);
      if (this.isAnswered(message, eventId, key)) return;
      this.logger.info({ deviceId: message.deviceId, eventId, reason, problem: decoded.message }, 'invalid event: answered rejected');
      return this.batcher.push({
        message,
        key,
        item: {
          kind: 'invalid',
          deviceId: message.deviceId,
          eventId,
          reason,
          payload: decoded.raw,
          problem: decoded.message,
          receivedAt: message.receivedAt,
        },
      });
    }
    this.deadLetter(message, `${decoded.error}: ${decoded.message}`);
  }

  receiveTelemetry(message: DeviceMessage): void {
    const decoded = decodePayload(message.payload, telemetrySchema);
    if (!decoded.ok) return this.deadLetter(message, `${decoded.error}: ${decoded.message}`);
    this.liveness.sawTelemetry(message.deviceId, decoded.value, message.receivedAt);
    for (const o of this.observers) o.telemetryReceived?.(message.deviceId, decoded.value, message.receivedAt);
    try {
      this.telemetryObserver?.sawTelemetry(message.deviceId, decoded.value, message.receivedAt);
    } catch (err) {
      this.logger.error({ err, deviceId: message.deviceId }, 'telemetry observer failed');
    }
  }

  receiveStatus(message: DeviceMessage): void {
    const decoded = decodePayload(message.payload, statusSchema);
    if (decoded.ok) {
      this.liveness.sawStatus(message.deviceId, decoded.value.state, message.receivedAt, message.isRetained);
      for (const o of this.observers) o.statusReceived?.(message.deviceId, decoded.value, message.receivedAt, message.isRetained);
    } else this.deadLetter(message, `${decoded.error}: ${decoded.message}`);
  }

  /** A device's registry row changed (disabled, re-enabled): judge its next events afresh. */
  forgetDevice(deviceId: string): Promise<void> {
    return this.repository.forgetDevice(deviceId);
  }

  /** A community's points rules changed: judge its next deposits by them. */
  forgetCommunityRules(communityId: string): Promise<void> {
    return this.repository.forgetCommunityRules(communityId);
  }

  /** A site's activities changed (staff API): judge its next taps by them. */
  forgetSiteActivities(siteId: string): Promise<void> {
    return this.repository.forgetSiteActivities(siteId);
  }

  /** A terminal moved to another site, or off one. */
  forgetTerminalSite(deviceId: string): Promise<void> {
    return this.repository.forgetTerminalSite(deviceId);
  }

  /** Commits what is queued and waits until the broker has taken every ack (a stop must not cut them off). */
  async drain(): Promise<void> {
    await this.batcher.drain();
    await this.deadLetters.flush();
    if (this.acksUnsettled > 0) await new Promise<void>((resolve) => this.acksSettledWaiters.push(resolve));
  }

  private async commitWithRetries(batch: Queued[]): Promise<IngestAck[] | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.repository.commitBatch(batch.map((q) => q.item));
      } catch (err) {
        if (attempt >= this.retryDelaysMs.length) {
          this.logger.error({ err, size: batch.length }, 'commit failed after retries');
          return null;
        }
        this.logger.warn({ err: (err as Error).message, attempt, size: batch.length }, 'commit failed; retrying');
        await sleep(this.retryDelaysMs[attempt]!);
      }
    }
  }

  /**
   * A resend needs no database work when its event is still queued (the ack
   * follows that commit) or was answered lately (the same stored bytes go out
   * again). Under overload most arrivals are such resends: answering them here
   * keeps the database for new events. Otherwise marks the event in flight.
   */
  private isAnswered(message: DeviceMessage, eventId: string, key: string): boolean {
    if (this.inFlight.has(key)) {
      this.resendsDropped++;
      return true;
    }
    const ack = this.recentAcks.get(key);
    if (ack !== undefined) {
      this.resendsAnsweredFromMemory++;
      this.publishAck(message.deviceId, eventId, ack, message.receivedAt);
      return true;
    }
    this.inFlight.add(key);
    return false;
  }

  private publishAck(deviceId: string, eventId: string, ack: string, receivedAt: Date | undefined): void {
    this.acksUnsettled++;
    this.acks
      .publish(deviceTopic(deviceId, 'acks'), ack)
      .then(
        () => {
          this.acksPublished++;
          if (receivedAt) for (const o of this.observers) o.ackPublished?.(deviceId, eventId, ack, receivedAt);
        },
        (err: unknown) => this.logger.warn({ err, deviceId, eventId }, 'ack not published; the device will resend'),
      )
      .finally(() => {
        if (--this.acksUnsettled > 0) return;
        for (const resolve of this.acksSettledWaiters.splice(0)) resolve();
      });
  }

  private deadLetter(message: DeviceMessage, reason: string): void {
    this.deadLetters.write({
      topic: message.topic,
      deviceId: message.deviceId,
      clientId: null,
      payload: message.payload,
      reason,
      receivedAt: message.receivedAt,
    });
  }

  /**
   * Commits with retries (a lock timeout or a lost connection heals); a batch
   * that keeps failing is split so one poisonous event cannot hold back the rest,
   * and an event that fails alone is dead-lettered, unacked: its device resends.
   */
  private async commit(batch: Queued[]): Promise<void> {
    try {
      await this.commitOrSplit(batch);
    } finally {
      // Answered, dead-lettered or lost: a resend of any of them is judged again (or found in recentAcks).
      for (const q of batch) this.inFlight.delete(q.key);
    }
  }

  private async commitOrSplit(batch: Queued[]): Promise<void> {
    const startedAt = performance.now();
    const acks = await this.commitWithRetries(batch);
    if (acks === null) {
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.commitOrSplit(batch.slice(0, half));
        await this.commitOrSplit(batch.slice(half));
      } else {
        this.deadLetter(batch[0]!.message, 'commit-failed: the event could not be stored; see the gateway log');
      }
      return;
    }
    for (const o of this.observers) o.batchCommitted?.(batch.length, (performance.now() - startedAt) / 1000);
    const receivedAt = new Map<string, Date>();
    for (const q of batch) receivedAt.set(q.key, q.message.receivedAt);
    for (const a of acks) {
      const key = keyOf(a.deviceId, a.eventId);
      this.recentAcks.remember(key, a.ack);
      // The first ack of the key removes it: a copy of the event in the same batch gets no receive time twice.
      const at = receivedAt.get(key);
      receivedAt.delete(key);
      this.publishAck(a.deviceId, a.eventId, a.ack, at);
    }
    // What the repository left out is not in the registry.
    for (const q of batch) if (receivedAt.has(q.key)) this.deadLetter(q.message, 'unknown-device: not in the registry');
  }
}
