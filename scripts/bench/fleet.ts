import { randomBytes } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';
import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic } from '../../libs/protocol/src';
import {
  DEFAULT_MAX_PUBLISHES_PER_TICK,
  PROTOCOL_RESEND_POLICY,
  type ResendPolicy,
  disableNagle,
  resendDelayMs,
} from '../../libs/protocol/src/device';
import type { Population } from './admin-api';

/** The default deposit: 3 alkaline (1 point each) + 1 lithium (3 points). */
export const DEPOSIT_ITEMS = [
  { kind: 'alkaline', count: 3 },
  { kind: 'lithium', count: 1 },
] as const;
export const DEPOSIT_POINTS = 6;

interface InFlight {
  deviceIndex: number;
  residentIndex: number;
  startedAt: number;
  bytes: string;
  /** When the next copy is due if no ack came: 10 s, then doubling up to 5 min (PROTOCOL.md duty 3). */
  resendAt: number;
  /** Copies published so far. */
  publishes: number;
}

/** What a phase sees of each ack: its device, and the latency it is measuring. */
export interface PhaseListener {
  histogram: hdr.Histogram;
  onAck(deviceIndex: number): void;
}

/** Tallies over the fleet's whole life, which the verification reads. */
export interface AckTally {
  sent: number;
  credited: number;
  pending: number;
  rejected: number;
  /** Acks for an event that was already acked, and was not resent. */
  duplicates: number;
  /** Events published again after `resendMs` without an ack (PROTOCOL.md duty 3). */
  resent: number;
  /** Repeat acks for resent events: expected, the stored ack answers each copy. */
  repeatAcksAfterResend: number;
  /** Acks for an event this fleet never sent. */
  unknown: number;
  /** Credited acks whose points are not the deposit's worth. */
  wrongPoints: number;
  reasons: Record<string, number>;
}

/**
 * The bench's bin devices, all in this process: one mqtt.js client each (own
 * credentials, persistent session, QoS 1 acks subscription), a map of events
 * awaiting their ack, and the points each resident was sent.
 */
export class Fleet {
  readonly tally: AckTally = {
    sent: 0,
    credited: 0,
    pending: 0,
    rejected: 0,
    duplicates: 0,
    resent: 0,
    repeatAcksAfterResend: 0,
    unknown: 0,
    wrongPoints: 0,
    reasons: {},
  };
  /** Points sent to each resident (by index), the expected balance. */
  readonly expectedPoints: number[];
  lastAckAt = 0;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly answered = new Set<string>();
  private readonly clients: MqttClient[] = [];
  private readonly eventTopics: string[];
  private readonly seqs: number[];
  private readonly runTag = randomBytes(3).toString('hex');
  private listener: PhaseListener | null = null;
  private readonly resentKeys = new Set<string>();
  private resendPolicy: ResendPolicy = PROTOCOL_RESEND_POLICY;
  private resendTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly population: Population,
    private readonly url: string,
    private readonly protocolVersion: 4 | 5,
  ) {
    this.expectedPoints = population.residents.map(() => 0);
    this.eventTopics = population.devices.map((d) => deviceTopic(d.id, 'events'));
    this.seqs = population.devices.map(() => 0);
  }

  get deviceCount(): number {
    return this.population.devices.length;
  }

  get residentCount(): number {
    return this.population.residents.length;
  }

  get outstanding(): number {
    return this.inFlight.size;
  }

  async connectAll(): Promise<void> {
    await Promise.all(this.population.devices.map((d, i) => this.connect(d.id, d.password, i)));
  }

  /**
   * Devices' duty 3, as the device client does it (libs/protocol/src/device): an
   * event without an ack after `resendMs` is published again, same bytes, then
   * after twice that, up to 5 minutes, each wait spread by the protocol's jitter;
   * oldest first, at most DEFAULT_MAX_PUBLISHES_PER_TICK copies per device per
   * second. Off (null) while measuring latency under normal load; on when a broker
   * may drop messages (overload past its queue limit).
   */
  resendAfter(resendMs: number | null): void {
    if (this.resendTimer) clearInterval(this.resendTimer);
    this.resendTimer = null;
    if (resendMs === null) return;
    const policy: ResendPolicy = { ...PROTOCOL_RESEND_POLICY, firstMs: resendMs };
    this.resendPolicy = policy;
    const now = performance.now();
    for (const f of this.inFlight.values()) f.resendAt = Math.max(f.resendAt, now + resendDelayMs(policy, 1, Math.random()));
    this.resendTimer = setInterval(() => {
      const now = performance.now();
      const budget = this.clients.map(() => DEFAULT_MAX_PUBLISHES_PER_TICK);
      // Map order is sending order: each device's oldest first.
      for (const [key, f] of this.inFlight) {
        if (now < f.resendAt || budget[f.deviceIndex]! <= 0) continue;
        budget[f.deviceIndex]!--;
        f.publishes++;
        f.resendAt = now + resendDelayMs(policy, f.publishes, Math.random());
        this.tally.resent++;
        this.resentKeys.add(key);
        this.clients[f.deviceIndex]!.publish(this.eventTopics[f.deviceIndex]!, f.bytes, { qos: 1 });
      }
    }, 1000);
  }

  listen(listener: PhaseListener | null): void {
    this.listener = listener;
  }

  /** Publishes one default deposit from device `deviceIndex` for resident `residentIndex`. */
  send(deviceIndex: number, residentIndex: number, startedAt = performance.now()): void {
    const seq = this.seqs[deviceIndex]!++;
    const eventId = `${this.runTag}-${deviceIndex}-${seq}`;
    const event = {
      eventId,
      seq,
      occurredAt: new Date().toISOString(),
      type: 'deposit',
      cardUid: this.population.residents[residentIndex]!.cardUid,
      items: DEPOSIT_ITEMS,
      weightGrams: 85,
    };
    const bytes = JSON.stringify(event);
    const now = performance.now();
    this.inFlight.set(`${deviceIndex}/${eventId}`, {
      deviceIndex,
      residentIndex,
      startedAt,
      bytes,
      resendAt: now + resendDelayMs(this.resendPolicy, 1, Math.random()),
      publishes: 1,
    });
    this.expectedPoints[residentIndex]! += DEPOSIT_POINTS;
    this.tally.sent++;
    this.clients[deviceIndex]!.publish(this.eventTopics[deviceIndex]!, bytes, { qos: 1 });
  }

  async closeAll(): Promise<void> {
    this.resendAfter(null);
    await Promise.all(this.clients.map((c) => c.endAsync(true)));
  }

  private connect(id: string, password: string, deviceIndex: number): Promise<void> {
    const client = mqtt.connect(this.url, {
      clientId: id,
      username: id,
      password,
      clean: false,
      protocolVersion: this.protocolVersion,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    this.clients[deviceIndex] = client;
    const ackTopic = deviceTopic(id, 'acks');
    client.on('message', (topic, payload) => {
      if (topic === ackTopic) this.onAck(deviceIndex, payload);
    });
    // As the device client does (libs/protocol/src/device): no Nagle delay on a device's small packets.
    client.on('connect', () => disableNagle(client));
    return new Promise((resolve, reject) => {
      client.once('connect', () => {
        client.subscribe(ackTopic, { qos: 1 }, (err, granted) => {
          if (err) return reject(err);
          if (granted?.[0]?.qos !== 1) return reject(new Error(`device ${id}: acks subscription not granted at QoS 1`));
          resolve();
        });
      });
      client.once('error', reject);
    });
  }

  private onAck(deviceIndex: number, payload: Buffer): void {
    const now = performance.now();
    const ack = JSON.parse(payload.toString('utf8')) as { eventId: string; result: string; points: number; reason?: string };
    const key = `${deviceIndex}/${ack.eventId}`;
    const sent = this.inFlight.get(key);
    if (!sent) {
      if (this.resentKeys.has(key)) this.tally.repeatAcksAfterResend++;
      else if (this.answered.has(key)) this.tally.duplicates++;
      else this.tally.unknown++;
      return;
    }
    this.inFlight.delete(key);
    this.answered.add(key);
    this.lastAckAt = now;
    if (ack.result === 'credited') {
      this.tally.credited++;
      if (ack.points !== DEPOSIT_POINTS) this.tally.wrongPoints++;
    } else {
      this.tally[ack.result === 'pending' ? 'pending' : 'rejected']++;
      const reason = `${ack.result}/${ack.reason ?? '?'}`;
      this.tally.reasons[reason] = (this.tally.reasons[reason] ?? 0) + 1;
    }
    if (this.listener) {
      // Microseconds, so sub-millisecond latencies keep their resolution.
      this.listener.histogram.recordValue(Math.max(1, Math.round((now - sent.startedAt) * 1000)));
      this.listener.onAck(deviceIndex);
    }
  }
}

export function newLatencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}
