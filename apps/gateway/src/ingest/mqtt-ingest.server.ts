import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { DEVICE_CHANNELS, type DeviceChannel, parseDeviceTopic } from '../../../../libs/protocol/src';
import type { BrokerLink, InboundMessage } from './broker-link';

/** What a handler registered with `@EventPattern<string>(channel)` receives. */
export interface DeviceMessage {
  deviceId: string;
  channel: DeviceChannel;
  topic: string;
  payload: Buffer;
  receivedAt: Date;
  isRetained: boolean;
}

/**
 * Our MQTT transport for @nestjs/microservices. Nest's stock ServerMqtt
 * subscribes at QoS 0, reports ready before SUBACK and mis-routes `$share/...`
 * patterns (nestjs/nest#8063, #12367); this one:
 * - reaches the broker through a BrokerLink: the embedded aedes in process, or
 *   an external broker over MQTT at QoS 1 (broker-link.ts);
 * - routes by the device channel parsed from the concrete topic, so shared
 *   subscriptions route like plain ones;
 * - delivers one message at a time per source, so a handler that awaits queue
 *   space pushes back on the broker and the devices.
 */
export class MqttIngestServer extends Server implements CustomTransportStrategy {
  /** Handlers by channel, looked up once: Nest's own lookup parses the pattern on every message. */
  private readonly handlersByChannel = new Map<string, MessageHandler>();

  constructor(
    private readonly link: BrokerLink,
    private readonly subscriptions: readonly string[],
  ) {
    super();
  }

  get isReady(): boolean {
    return this.link.isReady;
  }

  listen(callback: (err?: unknown) => void): void {
    for (const channel of DEVICE_CHANNELS) {
      const handler = this.getHandlerByPattern(channel);
      if (handler) this.handlersByChannel.set(channel, handler);
    }
    this.link.start(this.subscriptions, (message) => this.dispatch(message)).then(() => callback(), callback);
  }

  /** Publishes at QoS 1; resolves when the broker has it. */
  publish(topic: string, payload: string): Promise<void> {
    return this.link.publish(topic, payload);
  }

  /** Takes no more device messages; publish still works (BrokerLink.stopReceiving). */
  stopReceiving(): Promise<void> {
    return this.link.stopReceiving();
  }

  close(): Promise<void> {
    return this.link.close();
  }

  /** Link status is reported by the health endpoint, not by events. */
  on(): void {
    throw new Error('the device transport emits no status events; see GET /api/v1/health');
  }

  unwrap<T>(): T {
    return this.link as T;
  }

  private async dispatch(inbound: InboundMessage): Promise<void> {
    const parsed = parseDeviceTopic(inbound.topic);
    if (!parsed) return; // the subscriptions only cover device topics
    const handler = this.handlersByChannel.get(parsed.channel);
    if (!handler) return;
    const message: DeviceMessage = {
      deviceId: parsed.deviceId,
      channel: parsed.channel,
      topic: inbound.topic,
      payload: inbound.payload,
      receivedAt: new Date(),
      isRetained: inbound.isRetained,
    };
    const result: unknown = await handler(message);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }
}
