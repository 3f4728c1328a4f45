import type { DeviceCommandRecord, DeviceCommandRepository } from '../../../../libs/persistence/src';
import { type Command, commandResultSchema, decodePayload, deviceTopic, statusSchema } from '../../../../libs/protocol/src';
import type { DeadLetterWriter } from '../ingest/dead-letter.writer';
import type { Logger } from '../logging/logger';

export interface DeviceCommandServiceDeps {
  repository: DeviceCommandRepository;
  /** QoS 1 publish through the gateway's broker link. */
  publish(topic: string, payload: string): Promise<void>;
  deadLetters: DeadLetterWriter;
  /** Whether the device is connected now (embedded broker) or said so last (status topic). */
  isOnline(deviceId: string): boolean;
  logger: Logger;
  now?: () => Date;
  /** How often queued commands are expired and the waiting list reread (other replicas add to it). */
  sweepIntervalMs?: number;
}

/**
 * Commands to devices (PROTOCOL.md "commands / command-results", issue #6):
 * stored as `queued`; sent once, when the device is online (at once, on its
 * `online` status, or on the first message it sends while something waits);
 * the result recorded from `command-results`. The queue is in the database, so
 * it survives a restart, and a command is claimed by one conditional UPDATE, so
 * it goes out once even with several replicas.
 */
export class DeviceCommandService {
  /** Devices with queued commands: the only ones whose messages trigger a look at the queue. */
  private readonly waiting = new Set<string>();
  private readonly delivering = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => Date;

  constructor(private readonly deps: DeviceCommandServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async start(): Promise<void> {
    await this.sweep();
    this.timer = setInterval(() => {
      this.sweep().catch((err: unknown) => this.deps.logger.error({ err }, 'command queue sweep failed'));
    }, this.deps.sweepIntervalMs ?? 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.delivering.values()]);
  }

  async create(input: { deviceId: string; name: string; params: Record<string, unknown>; expiresInSeconds: number; createdBy: string }) {
    const now = this.now();
    const command = await this.deps.repository.create({
      deviceId: input.deviceId,
      name: input.name,
      params: input.params,
      expiresAt: new Date(now.getTime() + input.expiresInSeconds * 1000),
      createdBy: input.createdBy,
    });
    this.waiting.add(input.deviceId);
    if (this.deps.isOnline(input.deviceId)) await this.deliver(input.deviceId);
    return (await this.deps.repository.find(command.id)) ?? command;
  }

  list(deviceId: string): Promise<DeviceCommandRecord[]> {
    return this.deps.repository.list(deviceId, this.now());
  }

  /** Sees every message a device sends (before the ingest does); never throws, never waits. */
  sawDeviceMessage(deviceId: string, channel: string, payload: Buffer): void {
    let cameOnline = false;
    if (channel === 'status') {
      const status = decodePayload(payload, statusSchema);
      cameOnline = status.ok && status.value.state === 'online';
    }
    if (cameOnline || this.waiting.has(deviceId)) {
      this.deliver(deviceId).catch((err: unknown) => this.deps.logger.error({ err, deviceId }, 'command delivery failed'));
    }
  }

  /** A message on `command-results`: recorded, or a dead letter when it answers nothing open. */
  async receiveResult(deviceId: string, topic: string, payload: Buffer): Promise<void> {
    const receivedAt = this.now();
    const deadLetter = (reason: string) =>
      this.deps.deadLetters.write({ topic, deviceId, clientId: deviceId, payload, reason, receivedAt });
    const decoded = decodePayload(payload, commandResultSchema);
    if (!decoded.ok) return deadLetter(`${decoded.error}: ${decoded.message}`);
    const { commandId, ok, detail } = decoded.value;
    const outcome = await this.deps.repository.recordResult(deviceId, commandId, ok, detail ?? null, receivedAt);
    if (outcome.outcome === 'recorded') {
      this.deps.logger.info({ deviceId, commandId, ok }, 'command result recorded');
    } else if (outcome.outcome === 'unknown-command') {
      deadLetter(`unknown-command: device ${deviceId} has no command ${commandId}`);
    } else {
      deadLetter(`command-already-finished: command ${commandId} is already ${outcome.status}`);
    }
  }

  /** One delivery at a time per device; a second call while one runs waits for it and runs again. */
  deliver(deviceId: string): Promise<void> {
    const previous = this.delivering.get(deviceId) ?? Promise.resolve();
    const next = previous.then(() => this.deliverNow(deviceId));
    this.delivering.set(deviceId, next);
    void next.finally(() => {
      if (this.delivering.get(deviceId) === next) this.delivering.delete(deviceId);
    });
    return next;
  }

  private async deliverNow(deviceId: string): Promise<void> {
    this.waiting.delete(deviceId);
    const claimed = await this.deps.repository.claimQueued(deviceId, this.now());
    for (const command of claimed) {
      const message: Command = {
        commandId: command.id,
        name: command.name,
        params: command.params,
        expiresAt: command.expiresAt.toISOString(),
      };
      try {
        await this.deps.publish(deviceTopic(deviceId, 'commands'), JSON.stringify(message));
        this.deps.logger.info({ deviceId, commandId: command.id, name: command.name }, 'command sent');
      } catch (err) {
        this.deps.logger.warn({ err, deviceId, commandId: command.id }, 'command not taken by the broker; queued again');
        await this.deps.repository.requeue(command.id);
        this.waiting.add(deviceId);
      }
    }
  }

  private async sweep(): Promise<void> {
    const now = this.now();
    const expired = await this.deps.repository.expireDue(now);
    if (expired > 0) this.deps.logger.info({ expired }, 'queued commands expired unsent');
    for (const deviceId of await this.deps.repository.devicesWithQueued(now)) this.waiting.add(deviceId);
  }
}
