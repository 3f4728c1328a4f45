import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic } from '../../libs/protocol/src';
import type { SeededDevices } from './seed-devices';

/**
 * Many idle devices, as a district has: each keeps a persistent session with
 * its acks and commands subscriptions (PROTOCOL.md duty 1), announces itself
 * online, and sends telemetry every `heartbeatMs` (60 s in the protocol), at
 * its own phase so the fleet's heartbeats spread evenly.
 */
export class HeartbeatFleet {
  private readonly clients: MqttClient[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  heartbeatsSent = 0;

  constructor(
    private readonly devices: SeededDevices,
    private readonly url: string,
    private readonly protocolVersion: 4 | 5,
    private readonly heartbeatMs = 60_000,
  ) {}

  get connected(): number {
    return this.clients.filter((c) => c.connected).length;
  }

  /** Connects them `concurrency` at a time; `progress` every 1,000. */
  async connectAll(concurrency: number, progress: (connected: number) => void): Promise<void> {
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < this.devices.ids.length) {
        await this.connect(this.devices.ids[next++]!);
        if (++done % 1000 === 0) progress(done);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  private connect(id: string): Promise<void> {
    const client = mqtt.connect(this.url, {
      clientId: id,
      username: id,
      password: this.devices.password,
      clean: false,
      protocolVersion: this.protocolVersion,
      ...(this.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      keepalive: 120,
      reconnectPeriod: 5000,
      connectTimeout: 30_000,
      will: { topic: deviceTopic(id, 'status'), payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
    });
    this.clients.push(client);
    const telemetry = deviceTopic(id, 'telemetry');
    const startedAt = Date.now();
    const beat = () => {
      if (!client.connected) return;
      this.heartbeatsSent++;
      client.publish(
        telemetry,
        JSON.stringify({
          fillPercent: 20 + (this.heartbeatsSent % 50),
          batteryPercent: 90,
          rssiDbm: -71,
          uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
          outboxDepth: 0,
          sentAt: new Date().toISOString(),
        }),
        { qos: 0 },
      );
    };
    return new Promise((resolve, reject) => {
      client.once('connect', () => {
        client.publish(deviceTopic(id, 'status'), '{"state":"online"}', { qos: 1, retain: true });
        client.subscribe({ [deviceTopic(id, 'acks')]: { qos: 1 }, [deviceTopic(id, 'commands')]: { qos: 1 } }, (err) => {
          if (err) return reject(err);
          beat();
          const phase = setTimeout(() => {
            beat();
            const every = setInterval(beat, this.heartbeatMs);
            this.timers.push(every);
          }, Math.random() * this.heartbeatMs);
          this.timers.push(phase);
          resolve();
        });
      });
      client.once('error', reject);
    });
  }

  async closeAll(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    const all = this.clients.splice(0);
    for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map((c) => c.endAsync(true)));
  }
}
