import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { type Ack, type DeviceEvent, ackSchema, deviceTopic } from '../../libs/protocol/src';
import { isScaled } from './test-mode';

export interface TestDeviceOptions {
  url: string;
  deviceId: string;
  password: string;
  /** Resend interval for unacked events (PROTOCOL.md says 10 s; tests go faster). */
  resendMs?: number;
  /** Speak MQTT 5 (external broker) or 3.1.1 (aedes). */
  protocolVersion?: 4 | 5;
  /** How long send() waits for the ack before failing. */
  ackTimeoutMs?: number;
}

/**
 * A device that follows PROTOCOL.md's device duties: own credentials, persistent
 * session, retained online status with an offline last will, QoS 1 subscriptions
 * to acks and commands, an outbox kept until each event's ack, resends of the
 * same bytes until then. Its outbox is in memory: the tests kill gateways, not
 * devices.
 */
export class TestDevice {
  readonly acks: Ack[] = [];
  readonly outbox = new Map<string, { bytes: string; sentAt: number }>();
  private client!: MqttClient;
  private timer: NodeJS.Timeout | null = null;
  private waiters = new Map<string, ((ack: Ack) => void)[]>();
  private seq = 0;

  constructor(readonly options: TestDeviceOptions) {}

  /** A registered device on a test gateway: the mode's MQTT version (5 for an external broker), resends every second. */
  static connectRegistered(url: string, device: { id: string; password: string }): Promise<TestDevice> {
    return TestDevice.connect({ url, deviceId: device.id, password: device.password, protocolVersion: isScaled ? 5 : 4, resendMs: 1000 });
  }

  static async connect(options: TestDeviceOptions): Promise<TestDevice> {
    const device = new TestDevice(options);
    await device.connect();
    return device;
  }

  get id(): string {
    return this.options.deviceId;
  }

  connect(): Promise<void> {
    const { url, deviceId, password, protocolVersion } = this.options;
    const status = deviceTopic(deviceId, 'status');
    this.client = mqtt.connect(url, {
      clientId: deviceId,
      username: deviceId,
      password,
      clean: false,
      protocolVersion: protocolVersion ?? 4,
      reconnectPeriod: 200,
      connectTimeout: 5000,
      will: { topic: status, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
    });
    this.client.on('message', (topic, payload) => {
      if (topic !== deviceTopic(deviceId, 'acks')) return;
      const ack = ackSchema.parse(JSON.parse(payload.toString('utf8')));
      this.acks.push(ack);
      this.outbox.delete(ack.eventId);
      const waiting = this.waiters.get(ack.eventId) ?? [];
      this.waiters.delete(ack.eventId);
      waiting.forEach((w) => w(ack));
    });
    this.timer = setInterval(() => this.resendDue(), Math.max(50, Math.floor((this.options.resendMs ?? 1000) / 4)));
    return new Promise((resolve, reject) => {
      this.client.once('connect', () => {
        this.client.publish(status, '{"state":"online"}', { qos: 1, retain: true });
        this.client.subscribe({ [deviceTopic(deviceId, 'acks')]: { qos: 1 }, [deviceTopic(deviceId, 'commands')]: { qos: 1 } }, (err) =>
          err ? reject(err) : resolve(),
        );
      });
      this.client.once('error', reject);
    });
  }

  /** A deposit event with fresh ids; pass overrides to vary it. */
  deposit(cardUid: string, overrides: Partial<DeviceEvent> & Record<string, unknown> = {}): DeviceEvent {
    return {
      eventId: `ev-${randomBytes(8).toString('hex')}`,
      seq: this.seq++,
      occurredAt: new Date().toISOString(),
      type: 'deposit',
      cardUid,
      items: [
        { kind: 'alkaline', count: 3 },
        { kind: 'lithium', count: 1 },
      ],
      weightGrams: 85,
      ...overrides,
    };
  }

  /** Duty 2 and 3: into the outbox first, then publish; resent until acked. */
  send(event: DeviceEvent | Record<string, unknown>): Promise<Ack> {
    const eventId = String((event as { eventId: unknown }).eventId);
    const bytes = JSON.stringify(event);
    this.outbox.set(eventId, { bytes, sentAt: Date.now() });
    const acked = this.waitForAck(eventId);
    this.client.publish(deviceTopic(this.id, 'events'), bytes, { qos: 1 });
    return acked;
  }

  /** Publishes raw bytes to any topic, bypassing the outbox (bad-input tests). */
  publishRaw(topic: string, payload: string | Buffer): Promise<void> {
    return new Promise((resolve) => this.client.publish(topic, payload, { qos: 1 }, () => resolve()));
  }

  /** Publishes without waiting for PUBACK: for publishes the broker refuses by disconnecting. */
  publishAndForget(topic: string, payload: string, retain = false): void {
    this.client.publish(topic, payload, { qos: 1, retain });
  }

  waitForAck(eventId: string, timeoutMs = this.options.ackTimeoutMs ?? 20_000): Promise<Ack> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ack for ${eventId} from ${this.id} within ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiters.get(eventId) ?? [];
      list.push((ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
      this.waiters.set(eventId, list);
    });
  }

  acksFor(eventId: string): Ack[] {
    return this.acks.filter((a) => a.eventId === eventId);
  }

  private resendDue(): void {
    if (!this.client.connected) return;
    const now = Date.now();
    for (const [, entry] of this.outbox) {
      if (now - entry.sentAt < (this.options.resendMs ?? 1000)) continue;
      entry.sentAt = now;
      this.client.publish(deviceTopic(this.id, 'events'), entry.bytes, { qos: 1 });
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // Forced: a device the broker refused may be between reconnects.
    await new Promise<void>((resolve) => this.client.end(true, {}, () => resolve()));
  }
}

/** Tries to connect and reports the broker's answer instead of retrying. */
export function tryConnect(
  url: string,
  username: string,
  password: string,
): Promise<{ connected: boolean; error?: string; code?: number }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, {
      clientId: `probe-${randomBytes(4).toString('hex')}`,
      username,
      password,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    client.once('connect', () => {
      void client.endAsync().then(() => resolve({ connected: true }));
    });
    client.once('error', (err: Error & { code?: number }) => {
      client.end(true);
      resolve({ connected: false, error: err.message, ...(err.code !== undefined ? { code: err.code } : {}) });
    });
  });
}
