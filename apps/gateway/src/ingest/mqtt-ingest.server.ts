import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { isObservable, lastValueFrom } from 'rxjs';
import { type DeviceChannel, parseDeviceTopic } from '../../../../libs/protocol/src';
import type { Logger } from '../logging/logger';

/** What a handler registered with `@EventPattern<string>(channel)` receives. */
export interface DeviceMessage {
  deviceId: string;
  channel: DeviceChannel;
  topic: string;
  payload: Buffer;
  receivedAt: Date;
  isRetained: boolean;
}

export interface MqttIngestOptions {
  url: string;
  clientOptions: IClientOptions;
  /** Filters to subscribe at QoS 1, e.g. `$share/jifen/jifen/v1/devices/+/events`. */
  subscriptions: string[];
  logger: Logger;
}

/**
 * Our MQTT transport for @nestjs/microservices. Nest's stock ServerMqtt
 * subscribes at QoS 0, reports ready before SUBACK and mis-routes `$share/...`
 * patterns (nestjs/nest#8063, #12367); this one:
 * - subscribes at QoS 1 and reports ready only once every SUBACK granted QoS 1;
 * - routes by the device channel parsed from the concrete topic, so shared
 *   subscriptions route like plain ones;
 * - delivers one message at a time through mqtt.js's `handleMessage`, whose
 *   callback releases the next packet (and the PUBACK): a handler that awaits
 *   queue space therefore pushes back on the broker and the devices.
 */
export class MqttIngestServer extends Server implements CustomTransportStrategy {
  private client: MqttClient | null = null;
  private subscribed = false;

  constructor(private readonly options: MqttIngestOptions) {
    super();
  }

  get isReady(): boolean {
    return this.subscribed && this.client?.connected === true;
  }

  listen(callback: (err?: unknown) => void): void {
    const { logger } = this.options;
    const client = mqtt.connect(this.options.url, { ...this.options.clientOptions, manualConnect: true });
    this.client = client;
    client.handleMessage = (packet, done) => {
      this.dispatch(packet).then(
        () => done(),
        (err: unknown) => {
          // Never throw across the wire: log, and let the device's resend retry it.
          logger.error({ err, topic: packet.topic }, 'device message handler failed');
          done();
        },
      );
    };
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      callback(err);
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
      // Small packets both ways (events in, acks out): no Nagle delay (see embedded-broker.ts).
      const socket = client.stream as { setNoDelay?: (on: boolean) => void };
      socket.setNoDelay?.(true);
      // A resumed session keeps its subscriptions; a clean one needs them again.
      if (connack.sessionPresent && this.subscribed) return;
      const wanted = Object.fromEntries(this.options.subscriptions.map((f) => [f, { qos: 1 as const }]));
      client.subscribe(wanted, (err, granted) => {
        if (err) return fail(err);
        const refused = (granted ?? []).filter((g) => g.qos !== 1);
        if (refused.length > 0) {
          return fail(new Error(`broker refused QoS 1 for ${refused.map((g) => `${g.topic} (granted ${g.qos})`).join(', ')}`));
        }
        this.subscribed = true;
        logger.info({ subscriptions: this.options.subscriptions }, 'subscribed at QoS 1');
        if (!settled) {
          settled = true;
          callback();
        }
      });
    });
    client.connect();
  }

  /** Publishes at QoS 1; resolves when the broker has it (PUBACK). */
  publish(topic: string, payload: string): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('MQTT transport is not started'));
    return new Promise((resolve, reject) => client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    this.subscribed = false;
    const client = this.client;
    this.client = null;
    if (client) await client.endAsync();
  }

  /** Status events of the underlying client ('connect', 'close', 'error', ...). */
  // The base class declares `Function`; narrowing it here would not type-check.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  on<K extends string = string, C extends Function = Function>(event: K, callback: C): void {
    if (!this.client) throw new Error('MQTT transport is not started');
    this.client.on(event as 'connect', callback as never);
  }

  unwrap<T>(): T {
    if (!this.client) throw new Error('MQTT transport is not started');
    return this.client as T;
  }

  private async dispatch(packet: IPublishPacket): Promise<void> {
    const parsed = parseDeviceTopic(packet.topic);
    if (!parsed) return; // the subscriptions only cover device topics
    const handler = this.getHandlerByPattern(parsed.channel);
    if (!handler) return;
    const message: DeviceMessage = {
      deviceId: parsed.deviceId,
      channel: parsed.channel,
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      receivedAt: new Date(),
      isRetained: packet.retain === true,
    };
    const result: unknown = await handler(message);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }
}
