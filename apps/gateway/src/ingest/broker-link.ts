import type { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { disableNagle } from '../../../../libs/protocol/src/device';
import type { Logger } from '../logging/logger';

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
  close(): Promise<void>;
}

/**
 * An external broker (Mosquitto, EMQX) over MQTT, through mqtt.js:
 * - subscribes at QoS 1 and is ready only once every SUBACK granted QoS 1;
 * - hands packets over through mqtt.js's `handleMessage`, whose callback
 *   releases the next packet (and the PUBACK).
 */
export class MqttClientLink implements BrokerLink {
  private client: MqttClient | null = null;
  private subscribed = false;

  constructor(
    private readonly url: string,
    private readonly clientOptions: IClientOptions,
    private readonly logger: Logger,
  ) {}

  get isReady(): boolean {
    return this.subscribed && this.client?.connected === true;
  }

  start(filters: readonly string[], deliver: (message: InboundMessage) => Promise<void>): Promise<void> {
    const { logger } = this;
    const client = mqtt.connect(this.url, { ...this.clientOptions, manualConnect: true });
    this.client = client;
    let corked: Writable | null = null;
    client.handleMessage = (packet, done) => {
      // One socket write for the PUBACKs (and acks) of everything one read brought in:
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
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      deliver({ topic: packet.topic, payload, isRetained: packet.retain === true }).then(
        () => done(),
        (err: unknown) => {
          // Never throw across the wire: log, and let the device's resend retry it.
          logger.error({ err, topic: packet.topic }, 'device message handler failed');
          done();
        },
      );
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
      client.connect();
    });
  }

  publish(topic: string, payload: string): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('MQTT link is not started'));
    return new Promise((resolve, reject) => client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    this.subscribed = false;
    const client = this.client;
    this.client = null;
    if (client) await client.endAsync();
  }
}
