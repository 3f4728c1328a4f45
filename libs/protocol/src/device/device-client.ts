import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { decodePayload, describeIssues } from '../decode';
import { type Ack, type Command, type DeviceEvent, type Telemetry, ackSchema, commandSchema } from '../payloads';
import { deviceTopic } from '../topics';
import { type Outbox, type OutboxEntry } from './outbox';
import { PROTOCOL_RESEND_POLICY, type ResendPolicy, resendDelayMs } from './resend-policy';

/** Most publishes per resend scan unless `maxPublishesPerTick` says otherwise. */
export const DEFAULT_MAX_PUBLISHES_PER_TICK = 1000;

/**
 * Where link faults are injected (the simulator's flaky link). `transmit` gets a
 * thunk that publishes one event; it may call it never (loss), twice (duplicate)
 * or later (delay, reordering). `deliver` does the same for incoming acks.
 */
export interface LinkShaper {
  transmit(publish: () => void): void;
  deliver(receive: () => void): void;
}

export interface CommandOutcome {
  ok: boolean;
  detail?: string;
}

export interface DeviceClientOptions {
  url: string;
  deviceId: string;
  password: string;
  outbox: Outbox;
  /** MQTT 3.1.1 (aedes) or 5 (external brokers). */
  protocolVersion?: 4 | 5;
  resend?: Partial<ResendPolicy>;
  /** How often the outbox is scanned for due resends. */
  resendTickMs?: number;
  /** Most publishes per scan, so a long outbox drains without flooding the link. */
  maxPublishesPerTick?: number;
  /** Full telemetry every this many ms (PROTOCOL.md: 60 s); 0 = only on changes. */
  telemetryIntervalMs?: number;
  reconnectPeriodMs?: number;
  /** The device's clock (the simulator skews it); used for occurredAt and command expiry. */
  now?: () => number;
  random?: () => number;
  link?: LinkShaper;
  /** Runs a command; unknown commands should answer ok: false. The default shows messages and refuses the rest. */
  onCommand?: (command: Command) => Promise<CommandOutcome> | CommandOutcome;
  /** Share of the outbox's capacity past which telemetry reports the OUTBOX_HIGH fault. */
  outboxAlertRatio?: number;
  /** Makes the MQTT client; tests pass a fake (mqtt.connect by default). */
  connect?: (url: string, options: IClientOptions) => MqttClient;
}

export interface AckReceived {
  ack: Ack;
  /** The entry it settled; undefined for a repeated ack. */
  entry?: OutboxEntry;
  /** Wall time from the first publish to this ack, when this process published it. */
  latencyMs?: number;
  /** An ack for an event that is no longer in the outbox. */
  isRepeat: boolean;
  /** For a repeat: whether its bytes equal the first ack's (the gateway promises they do). */
  matchesFirst?: boolean;
  raw: string;
}

export interface DeviceClientEvents {
  ack: [AckReceived];
  'invalid-ack': [{ raw: string; message: string }];
  command: [Command];
  /** Lines a show-message command asked for (an ack's lines come with its 'ack' event). */
  display: [{ zh: string; en: string }];
  connect: [];
  offline: [];
  error: [Error];
}

interface Attempt {
  count: number;
  nextAt: number;
  firstAt?: number;
}

const RECENT_ACKS = 20_000;

/**
 * Turns Nagle's algorithm off on an MQTT client's socket. Device traffic is
 * small packets both ways: with it on, a PUBACK for an ack waited for the TCP
 * ACK of the previous publish (up to the peer's 40 ms delayed ACK) and the
 * next event queued behind it (bench at 1,000 events/s: ack latency p50
 * 37 -> 11 ms in scaled mode, 45 -> 23 ms embedded). Call it on every connect.
 */
export function disableNagle(client: Pick<MqttClient, 'stream'>): void {
  (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
}

/**
 * mqtt.js's `log` option: its default is the `debug` logger, which allocates
 * an array for every call's arguments even when disabled, and the client logs
 * several lines per packet (6 % of the scaled gateway's allocation at 1,000
 * events/s). A no-op unless `DEBUG` names mqttjs, when mqtt.js's own logger
 * is kept so `DEBUG=mqttjs*` still traces packets.
 */
export function mqttLogOption(env: NodeJS.ProcessEnv = process.env): Pick<IClientOptions, 'log'> {
  const traced = (env.DEBUG ?? '').split(/[\s,]+/).some((name) => name === '*' || name.startsWith('mqttjs'));
  return traced ? {} : { log: noLog };
}

function noLog(): void {}

/**
 * A device's side of protocol v1 (shared/PROTOCOL.md, "What a device does"): own
 * credentials, persistent session, retained online status with an offline last
 * will, QoS 1 subscriptions to acks and commands; every event stored in the
 * outbox before its first publish and published again, same bytes, with backoff
 * until its ack arrives; telemetry on a timer and on change; commands answered.
 * Used by the simulator and the edge bridge.
 */
export class DeviceClient extends EventEmitter<DeviceClientEvents> {
  private client: MqttClient | null = null;
  private readonly policy: ResendPolicy;
  private readonly attempts = new Map<string, Attempt>();
  private readonly recentAcks = new Map<string, string>();
  private readonly readings: Telemetry = {};
  private readonly startedAt = Date.now();
  private resendTimer: NodeJS.Timeout | null = null;
  private telemetryTimer: NodeJS.Timeout | null = null;
  private wanted = false;

  constructor(readonly options: DeviceClientOptions) {
    super();
    this.policy = { ...PROTOCOL_RESEND_POLICY, ...options.resend };
  }

  get deviceId(): string {
    return this.options.deviceId;
  }

  get isConnected(): boolean {
    return this.client?.connected ?? false;
  }

  get outboxDepth(): number {
    return this.options.outbox.size;
  }

  now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Connects (and keeps reconnecting); resolves at the first subscription, rejects on a refused login. */
  start(): Promise<void> {
    this.wanted = true;
    const tick = this.options.resendTickMs ?? Math.max(50, Math.min(1000, Math.floor(this.policy.firstMs / 4)));
    this.resendTimer ??= setInterval(() => this.publishDue(), tick);
    const every = this.options.telemetryIntervalMs ?? 60_000;
    if (every > 0) this.telemetryTimer ??= setInterval(() => this.publishTelemetry(), every);
    return this.connect();
  }

  /** Stops: a clean disconnect (the broker does not send the last will) unless `abrupt`. */
  async stop(options: { abrupt?: boolean } = {}): Promise<void> {
    this.wanted = false;
    if (this.resendTimer) clearInterval(this.resendTimer);
    if (this.telemetryTimer) clearInterval(this.telemetryTimer);
    this.resendTimer = this.telemetryTimer = null;
    await this.disconnect(options);
  }

  /** Drops the link (no DISCONNECT packet when abrupt: the broker publishes the last will). Events keep queueing in the outbox. */
  async goOffline(options: { abrupt?: boolean } = { abrupt: true }): Promise<void> {
    await this.disconnect(options);
  }

  /** Comes back after goOffline(); the outbox is replayed oldest first. */
  goOnline(): Promise<void> {
    return this.connect();
  }

  /** Duty 2 then 3: stored durably, then published. Resolves once stored; the ack arrives as an 'ack' event. */
  async send(event: DeviceEvent): Promise<OutboxEntry> {
    const entry: OutboxEntry = { eventId: event.eventId, bytes: JSON.stringify(event), storedAt: this.now() };
    await this.options.outbox.add(entry);
    const attempt: Attempt = { count: 0, nextAt: 0 };
    this.attempts.set(entry.eventId, attempt);
    if (this.isConnected) this.publishEntry(entry, attempt, Date.now());
    this.checkOutboxAlert();
    return entry;
  }

  /** Merges readings; publishes at once when one changed (duty 4). */
  updateTelemetry(readings: Telemetry): void {
    let changed = false;
    for (const [key, value] of Object.entries(readings) as [keyof Telemetry, unknown][]) {
      if (JSON.stringify(this.readings[key]) === JSON.stringify(value)) continue;
      (this.readings as Record<string, unknown>)[key] = value;
      changed = true;
    }
    if (changed) this.publishTelemetry();
  }

  /** Sets or clears one fault code in the telemetry. */
  setFault(code: string, isActive: boolean): void {
    const faults = new Set(this.readings.faults ?? []);
    if (isActive === faults.has(code)) return;
    if (isActive) faults.add(code);
    else faults.delete(code);
    this.updateTelemetry({ faults: [...faults].sort() });
  }

  publishTelemetry(): void {
    if (!this.isConnected) return;
    const body: Telemetry = {
      ...this.readings,
      outboxDepth: this.options.outbox.size,
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      sentAt: new Date(this.now()).toISOString(),
    };
    this.client!.publish(deviceTopic(this.deviceId, 'telemetry'), JSON.stringify(body), { qos: 1 });
  }

  private connect(): Promise<void> {
    if (this.client) return Promise.resolve();
    const { url, deviceId, password } = this.options;
    const status = deviceTopic(deviceId, 'status');
    const client = (this.options.connect ?? ((u: string, o: IClientOptions) => mqtt.connect(u, o)))(url, {
      ...mqttLogOption(),
      clientId: deviceId,
      username: deviceId,
      password,
      clean: false,
      protocolVersion: this.options.protocolVersion ?? 4,
      // MQTT 5 ends a session at disconnect unless it is given an expiry [MQTT-3.1.2-23]; a week covers a long outage.
      ...(this.options.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 7 * 24 * 3600 } } : {}),
      reconnectPeriod: this.options.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      // The outbox resends what matters; mqtt.js need not queue publishes while offline.
      queueQoSZero: false,
      will: { topic: status, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('offline', () => this.emit('offline'));
    client.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    client.on('connect', () => {
      disableNagle(client);
      client.publish(status, '{"state":"online"}', { qos: 1, retain: true });
      client.subscribe({ [deviceTopic(deviceId, 'acks')]: { qos: 1 }, [deviceTopic(deviceId, 'commands')]: { qos: 1 } }, (err) => {
        if (err) return;
        // Back on the link: whatever waits in the outbox goes now, oldest first.
        for (const attempt of this.attempts.values()) attempt.nextAt = 0;
        this.emit('connect');
        this.publishDue();
        this.publishTelemetry();
      });
    });
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        client.off('error', onError);
        resolve();
      };
      const onError = (err: Error & { code?: number }) => {
        // A refused login (bad credentials, unknown device) will not fix itself.
        if (err.code === 4 || err.code === 5 || err.code === 134 || err.code === 135) {
          this.off('connect', onConnect);
          client.end(true);
          this.client = null;
          reject(new Error(`the broker refused device ${deviceId}: ${err.message}`));
        }
      };
      this.once('connect', onConnect);
      client.on('error', onError);
    });
  }

  private async disconnect({ abrupt = false }: { abrupt?: boolean }): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = null;
    if (abrupt) client.stream?.destroy();
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }

  /** Loads entries a previous run left in a durable outbox: they are due at once. */
  private attemptFor(entry: OutboxEntry): Attempt {
    let attempt = this.attempts.get(entry.eventId);
    if (!attempt) {
      attempt = { count: 0, nextAt: 0 };
      this.attempts.set(entry.eventId, attempt);
    }
    return attempt;
  }

  private publishDue(): void {
    if (!this.isConnected) return;
    const now = Date.now();
    let budget = this.options.maxPublishesPerTick ?? DEFAULT_MAX_PUBLISHES_PER_TICK;
    for (const entry of this.options.outbox.entries()) {
      if (budget <= 0) break;
      const attempt = this.attemptFor(entry);
      if (attempt.nextAt > now) continue;
      this.publishEntry(entry, attempt, now);
      budget--;
    }
  }

  private publishEntry(entry: OutboxEntry, attempt: Attempt, now: number): void {
    attempt.count++;
    attempt.firstAt ??= now;
    attempt.nextAt = now + resendDelayMs(this.policy, attempt.count, (this.options.random ?? Math.random)());
    const client = this.client!;
    const publish = () => {
      if (client.connected) client.publish(deviceTopic(this.deviceId, 'events'), entry.bytes, { qos: 1 });
    };
    if (this.options.link) this.options.link.transmit(publish);
    else publish();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic === deviceTopic(this.deviceId, 'acks')) {
      const receive = () => void this.onAck(payload);
      if (this.options.link) this.options.link.deliver(receive);
      else receive();
    } else if (topic === deviceTopic(this.deviceId, 'commands')) {
      void this.onCommand(payload);
    }
  }

  private async onAck(payload: Buffer): Promise<void> {
    const raw = payload.toString('utf8');
    const decoded = decodePayload(payload, ackSchema);
    if (!decoded.ok) {
      this.emit('invalid-ack', { raw, message: decoded.message });
      return;
    }
    const ack = decoded.value;
    const entry = this.options.outbox.get(ack.eventId);
    if (!entry || !(await this.options.outbox.remove(ack.eventId))) {
      const first = this.recentAcks.get(ack.eventId);
      this.emit('ack', { ack, raw, isRepeat: true, ...(first !== undefined ? { matchesFirst: first === raw } : {}) });
      return;
    }
    const attempt = this.attempts.get(ack.eventId);
    this.attempts.delete(ack.eventId);
    this.recentAcks.set(ack.eventId, raw);
    if (this.recentAcks.size > RECENT_ACKS) this.recentAcks.delete(this.recentAcks.keys().next().value!);
    const latencyMs = attempt?.firstAt !== undefined ? Date.now() - attempt.firstAt : undefined;
    this.emit('ack', { ack, entry, raw, isRepeat: false, ...(latencyMs !== undefined ? { latencyMs } : {}) });
    this.checkOutboxAlert();
  }

  private async onCommand(payload: Buffer): Promise<void> {
    const decoded = decodePayload(payload, commandSchema);
    if (!decoded.ok) {
      const id = decoded.error === 'schema' ? decoded.raw['commandId'] : undefined;
      if (typeof id === 'string' && id.length > 0 && id.length <= 64) {
        this.publishCommandResult(id, {
          ok: false,
          detail: `invalid command: ${decoded.error === 'schema' ? describeIssues(decoded.issues) : decoded.message}`,
        });
      }
      return;
    }
    const command = decoded.value;
    this.emit('command', command);
    if (Date.parse(command.expiresAt) < this.now()) {
      this.publishCommandResult(command.commandId, { ok: false, detail: `expired at ${command.expiresAt}; not run` });
      return;
    }
    let outcome: CommandOutcome;
    try {
      outcome = await (this.options.onCommand ?? ((c) => this.defaultCommand(c)))(command);
    } catch (err) {
      outcome = { ok: false, detail: (err as Error).message };
    }
    this.publishCommandResult(command.commandId, outcome);
  }

  private defaultCommand(command: Command): CommandOutcome {
    if (command.name === 'show-message') {
      const zh = typeof command.params['zh'] === 'string' ? command.params['zh'] : '';
      const en = typeof command.params['en'] === 'string' ? command.params['en'] : '';
      this.emit('display', { zh, en });
      return { ok: true, detail: 'shown' };
    }
    return { ok: false, detail: `this device does not support ${command.name}` };
  }

  private publishCommandResult(commandId: string, outcome: CommandOutcome): void {
    const body = { commandId, ok: outcome.ok, ...(outcome.detail !== undefined ? { detail: outcome.detail.slice(0, 512) } : {}) };
    this.client?.publish(deviceTopic(this.deviceId, 'command-results'), JSON.stringify(body), { qos: 1 });
  }

  private checkOutboxAlert(): void {
    const { outbox } = this.options;
    const isHigh = outbox.size >= outbox.capacity * (this.options.outboxAlertRatio ?? 0.8);
    if (isHigh !== (this.readings.faults ?? []).includes('OUTBOX_HIGH')) this.setFault('OUTBOX_HIGH', isHigh);
  }
}
