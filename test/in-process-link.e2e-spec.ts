import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic } from '../libs/protocol/src';
import { LineHarness, harnessScript } from './support/line-harness';

interface Fact {
  ready?: { port: number; readyBefore: boolean; readyAfter: boolean };
  received?: { topic: string; payload: string };
  published?: string;
}

class Harness {
  private constructor(private readonly process: LineHarness<Fact>) {}

  static async start(): Promise<Harness> {
    return new Harness(await LineHarness.start<Fact>(harnessScript('in-process-link'), (f) => f.ready !== undefined));
  }

  get facts(): Fact[] {
    return this.process.facts;
  }

  get ready() {
    return this.facts.find((f) => f.ready)?.ready;
  }

  get received(): string[] {
    return this.facts.flatMap((f) => (f.received ? [`${f.received.topic} ${f.received.payload}`] : []));
  }

  send(line: string): void {
    this.process.send(line);
  }

  until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return this.process.until(condition, what, timeoutMs);
  }

  stop(): void {
    this.process.stop();
  }
}

/**
 * The embedded gateway reads devices through aedes in process, not over an MQTT
 * client: this checks what the ingest path relies on — back-pressure per
 * device, order, only the subscribed filters, QoS 1 acks to the right device.
 */
describe('the embedded broker’s in-process link', () => {
  let harness: Harness;
  const devices: MqttClient[] = [];

  const connect = async (deviceId: string) => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${harness.ready!.port}`, {
      clientId: deviceId,
      username: deviceId,
      password: `pw-${deviceId}`,
      reconnectPeriod: 0,
    });
    devices.push(client);
    return client;
  };

  beforeEach(async () => {
    harness = await Harness.start();
  });

  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.endAsync(true)));
    harness.stop();
  });

  it('is ready only once subscribed', () => {
    expect(harness.ready).toMatchObject({ readyBefore: false, readyAfter: true });
  });

  // A held delivery (the ingest queue is full) does not hold back aedes: the
  // device's next messages are handed over at once, in order, and wait in the ingest.
  it('hands over a device’s next messages in order while one delivery is held', async () => {
    const device = await connect('bin-1');
    const topic = deviceTopic('bin-1', 'events');
    harness.send('hold');
    await new Promise((r) => setTimeout(r, 50));
    await device.publishAsync(topic, 'm1', { qos: 1 });
    await harness.until(() => harness.received.length >= 1, 'the first message');
    for (let i = 2; i <= 5; i++) await device.publishAsync(topic, `m${i}`, { qos: 1 });
    await harness.until(() => harness.received.length === 5, 'the other four');
    expect(harness.received).toEqual([1, 2, 3, 4, 5].map((i) => `${topic} m${i}`));
    harness.send('release');
  });

  // What bounds memory: past PAUSE_ABOVE_PENDING (256) deliveries waiting, a device
  // that publishes is no longer read; it is read again once they are taken.
  it('stops reading a device while too many deliveries wait, then delivers the rest in order', async () => {
    const device = await connect('bin-1');
    const topic = deviceTopic('bin-1', 'events');
    harness.send('hold-all');
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 1; i <= 300; i++) void device.publishAsync(topic, `m${i}`, { qos: 1 });
    await harness.until(() => harness.received.length > 256, 'more than 256 waiting deliveries');
    await new Promise((r) => setTimeout(r, 200)); // what the paused device's socket held is delivered by now
    const whilePaused = harness.received.length;
    for (let i = 301; i <= 310; i++) void device.publishAsync(topic, `m${i}`, { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(harness.received.length).toBe(whilePaused); // the ten late ones wait in the socket
    expect(whilePaused).toBeLessThan(310);

    harness.send('release');
    await harness.until(() => harness.received.length === 310, 'every message after the release');
    expect(harness.received).toEqual(Array.from({ length: 310 }, (_, i) => `${topic} m${i + 1}`));
  });

  it('keeps delivering other devices while one device’s delivery is held', async () => {
    const slow = await connect('bin-slow');
    const other = await connect('bin-other');
    harness.send('hold');
    await new Promise((r) => setTimeout(r, 50));
    await slow.publishAsync(deviceTopic('bin-slow', 'events'), 's1', { qos: 1 });
    await harness.until(() => harness.received.length >= 1, 'the held message');
    await other.publishAsync(deviceTopic('bin-other', 'events'), 'o1', { qos: 1 });
    await harness.until(() => harness.received.length >= 2, 'the other device’s message');
    expect(harness.received).toEqual([`${deviceTopic('bin-slow', 'events')} s1`, `${deviceTopic('bin-other', 'events')} o1`]);
    harness.send('release');
  });

  it('delivers the filters it subscribed to and nothing else', async () => {
    const device = await connect('bin-2');
    await device.publishAsync(deviceTopic('bin-2', 'telemetry'), 't', { qos: 1 });
    await device.publishAsync(deviceTopic('bin-2', 'events'), 'e', { qos: 1 });
    await harness.until(() => harness.received.length >= 1, 'the event');
    await new Promise((r) => setTimeout(r, 50));
    expect(harness.received).toEqual([`${deviceTopic('bin-2', 'events')} e`]);
  });

  it('publishes an ack at QoS 1 to the device it is for and to no other', async () => {
    const a = await connect('bin-a');
    const b = await connect('bin-b');
    const gotA: { topic: string; payload: string; qos: number }[] = [];
    const gotB: string[] = [];
    a.on('message', (topic, payload, packet) => gotA.push({ topic, payload: payload.toString(), qos: packet.qos }));
    b.on('message', (topic) => gotB.push(topic));
    await a.subscribeAsync(deviceTopic('bin-a', 'acks'), { qos: 1 });
    await b.subscribeAsync(deviceTopic('bin-b', 'acks'), { qos: 1 });

    harness.send(`publish ${deviceTopic('bin-a', 'acks')} {"eventId":"e1"}`);
    await harness.until(() => gotA.length === 1 && harness.facts.some((f) => f.published), 'the ack');
    await new Promise((r) => setTimeout(r, 50));
    expect(gotA).toEqual([{ topic: deviceTopic('bin-a', 'acks'), payload: '{"eventId":"e1"}', qos: 1 }]);
    expect(gotB).toEqual([]);
  });
});
