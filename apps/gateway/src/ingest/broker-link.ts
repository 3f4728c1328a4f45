import type { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { disableNagle, mqttLogOption } from '../../../../libs/protocol/src/device';
import type { Logger } from '../logging/logger';
import { DEFAULT_MAX_UNCONFIRMED_PUBLISHES, MAX_UNCONFIRMED_PUBLISHES } from './publish-pacing';

/** A message from a device topic as the broker handed it over. */
export interface InboundMessage {
  topic: string;
  payload: Buffer;
  isRetained: boolean;
}

/**
 * How the ingest transport reaches the broker. `deliver` resolves once the
 * ingest has taken the message (there is room in its queue); a link must bound
 * how many deliveries wait, and so push back on the broker and the devices:
 * MqttClientLink hands over the next message only when the last one settled;
 * the embedded broker's in-process link pauses publishing devices past a
 * bound (EmbeddedBroker.inProcessLink).
 */
export interface BrokerLink {
  readonly isReady: boolean;
  /** Resolves once every filter is subscribed at QoS 1; rejects if that cannot be done. */
  start(filters: readonly string[], deliver: (message: InboundMessage) => Promise<void>): Promise<void>;
  /** Publishes at QoS 1; resolves when the broker has taken the message. */
  publish(topic: string, payload: string): Promise<void>;
  /**
   * Hands over no more messages (what the broker had not handed over, it keeps
   * or gives another replica; devices resend the rest); publishing still works,
   * so the ingest can drain and ack what it took. Stop this way, then close.
   */
  stopReceiving(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An external broker (Mosquitto, EMQX) over MQTT, through mqtt.js:
 * - subscribes at QoS 1 and is ready only once every SUBACK granted QoS 1;
 * - hands packets over through mqtt.js's `handleMessage`, whose callback
 *   releases the next packet (and the PUBACK);
 * - publishes (acks, commands) on a second connection: mqtt.js reads one
 *   connection's packets in order, so on the subscribing one the PUBACK of an
 *   ack waits behind every event the broker has already written to it (under
 *   overload megabytes: acks then pile up in the gateway, README "Speed");
 * - takes the next message only while fewer than `maxUnconfirmed` of its own
 *   publishes wait for the broker's PUBACK. A busy broker takes acks slower
 *   than the gateway makes them; unpaced, 64,000 waited in one overload run
 *   (250 MB of heap, and mqtt.js reuses a waiting packet id past 65,535, so a
 *   callback would be lost). Paced, the gateway consumes at the rate the
 *   broker takes its acks.
 */
export class MqttClientLink implements BrokerLink {
  private client: MqttClient | null = null;
  private publisher: MqttClient | null = null;
  private subscribed = false;
  /** Publishes the broker has not yet confirmed. */
  private unconfirmed = 0;
  /** Handovers waiting for `unconfirmed` to fall back to half the limit. */
  private waitingForRoom: (() => void)[] = [];

  constructor(
    private readonly url: string,
    private readonly clientOptions: IClientOptions,
    private readonly logger: Logger,
    readonly maxUnconfirmed = DEFAULT_MAX_UNCONFIRMED_PUBLISHES,
  ) {
    if (!Number.isInteger(maxUnconfirmed) || maxUnconfirmed < 1 || maxUnconfirmed > MAX_UNCONFIRMED_PUBLISHES) {
      throw new RangeError(`maxUnconfirmed must be a whole number from 1 to ${MAX_UNCONFIRMED_PUBLISHES}, got ${maxUnconfirmed}`);
    }
  }

  /** How many of this link's publishes await the broker's PUBACK. */
  get unconfirmedPublishes(): number {
    return this.unconfirmed;
  }

  get isReady(): boolean {
    return this.subscribed && this.client?.connected === true && this.publisher?.connected === true;
  }

  start(filters: readonly string[], deliver: (message: InboundMessage) => Promise<void>): Promise<void> {
    const { logger } = this;
    const client = mqtt.connect(this.url, { ...mqttLogOption(), ...this.clientOptions, manualConnect: true });
    this.client = client;
    const { clientId } = this.clientOptions;
    const publisher = mqtt.connect(this.url, {
      ...mqttLogOption(),
      ...this.clientOptions,
      ...(clientId ? { clientId: `${clientId}-out` } : {}),
      clean: true,
      manualConnect: true,
    });
    this.publisher = publisher;
    let corked: Writable | null = null;
    client.handleMessage = (packet, done) => {
      // Stopped receiving: neither handed over nor PUBACKed, so the broker still has it.
      if (this.client !== client) return;
      // One socket write for the PUBACKs of everything one read brought in:
      // written one by one they cost a writev each, 16 % of the gateway's CPU (scaled bench profile).
      const stream = client.stream as Partial<Writable> | undefined;
      if (corked === null && typeof stream?.cork === 'function') {
        const writable = stream as Writable;
        corked = writable;
        writable.cork();
        setImmediate(() => {
          corked = null;
          writable.uncork();
        });
      }
      // mqtt.js counts only acks and PINGRESPs as signs of life; a PINGRESP queued
      // behind a backlog of events arrived too late, and the connection was dropped
      // twice in one overload run (every in-flight event lost, resent by the devices).
      client.reschedulePing();
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      const release = () => (this.unconfirmed < this.maxUnconfirmed ? done() : this.waitingForRoom.push(done));
      deliver({ topic: packet.topic, payload, isRetained: packet.retain === true }).then(release, (err: unknown) => {
        // Never throw across the wire: log, and let the device's resend retry it.
        logger.error({ err, topic: packet.topic }, 'device message handler failed');
        release();
      });
    };
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      client.on('error', (err) => {
        logger.error({ err: err.message }, 'MQTT client error');
        fail(err);
      });
      publisher.on('error', (err) => {
        logger.error({ err: err.message }, 'MQTT publishing connection error');
        fail(err);
      });
      publisher.on('connect', () => disableNagle(publisher));
      publisher.on('close', () => {
        // Acks wait in mqtt.js meanwhile; the intake stops once maxUnconfirmed do.
        if (this.publisher === publisher) logger.warn('MQTT publishing connection to the broker closed; reconnecting');
      });
      client.on('close', () => {
        if (this.subscribed) logger.warn('MQTT connection to the broker closed; reconnecting');
        this.subscribed = false;
      });
      client.on('connect', (connack) => {
        // Small packets both ways (events in, acks out): no Nagle delay.
        disableNagle(client);
        // A resumed session keeps its subscriptions; a clean one needs them again.
        if (connack.sessionPresent && this.subscribed) return;
        const wanted = Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }]));
        client.subscribe(wanted, (err, granted) => {
          if (err) return fail(err);
          const refused = (granted ?? []).filter((g) => g.qos !== 1);
          if (refused.length > 0) {
            return fail(new Error(`broker refused QoS 1 for ${refused.map((g) => `${g.topic} (granted ${g.qos})`).join(', ')}`));
          }
          this.subscribed = true;
          logger.info({ subscriptions: filters }, 'subscribed at QoS 1');
          if (!settled) {
            settled = true;
            resolve();
          }
        });
      });
      // What is published before it connects waits in mqtt.js and goes out on connect.
      publisher.connect();
      client.connect();
    });
  }

  publish(topic: string, payload: string): Promise<void> {
    const publisher = this.publisher;
    if (!publisher) return Promise.reject(new Error('MQTT link is not started'));
    this.unconfirmed += 1;
    return new Promise((resolve, reject) =>
      publisher.publish(topic, payload, { qos: 1 }, (err) => {
        this.unconfirmed -= 1;
        if (this.unconfirmed <= this.maxUnconfirmed / 2) this.releaseWaiting();
        if (err) reject(err);
        else resolve();
      }),
    );
  }

  private releaseWaiting(): void {
    if (this.waitingForRoom.length === 0) return;
    const waiting = this.waitingForRoom;
    this.waitingForRoom = [];
    for (const done of waiting) done();
  }

  async stopReceiving(): Promise<void> {
    this.subscribed = false;
    const client = this.client;
    this.client = null;
    this.releaseWaiting();
    // The subscribing connection publishes nothing, so ending it waits for nothing.
    if (client) await client.endAsync();
  }

  /** Ends both connections; the publishing one after the broker confirmed what it was sent. */
  async close(): Promise<void> {
    await this.stopReceiving();
    const publisher = this.publisher;
    this.publisher = null;
    if (publisher) await publisher.endAsync();
  }
}
