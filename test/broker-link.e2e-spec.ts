import { type AddressInfo, type Socket, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { MqttClientLink } from '../apps/gateway/src/ingest/broker-link';
import { createLogger } from '../apps/gateway/src/logging/logger';
import { LineHarness, harnessScript } from './support/line-harness';

interface Fact {
  port?: number;
  held?: number;
}

/**
 * The scaled mode's link to an external broker, against a broker this suite
 * controls: it can hold back the PUBACKs of the gateway's own publishes, as a
 * broker too busy to take acks does.
 */
describe('MqttClientLink (external broker)', () => {
  let broker: LineHarness<Fact>;
  let url: string;
  const links: MqttClientLink[] = [];
  const devices: MqttClient[] = [];

  beforeEach(async () => {
    broker = await LineHarness.start<Fact>(harnessScript('holding-broker'), (f) => f.port !== undefined);
    url = `mqtt://127.0.0.1:${broker.facts.find((f) => f.port)!.port}`;
  });

  afterEach(async () => {
    broker.send('release-all');
    await Promise.all(links.splice(0).map((link) => link.close()));
    await Promise.all(devices.splice(0).map((device) => device.endAsync(true)));
    broker.stop();
  });

  const heldCount = () => broker.facts.reduce((n, f) => Math.max(n, f.held ?? 0), 0);

  async function startLink(received: string[], options: { maxUnconfirmed?: number; holdFirst?: Promise<void> } = {}) {
    const link = new MqttClientLink(
      url,
      { clientId: `gw-${Math.random().toString(16).slice(2, 10)}`, protocolVersion: 4, clean: true, reconnectPeriod: 0 }, // aedes speaks MQTT 3.1.1
      createLogger('silent'),
      options.maxUnconfirmed,
    );
    links.push(link);
    await link.start(['dev/+/events'], async (message) => {
      received.push(message.payload.toString());
      if (received.length === 1 && options.holdFirst) await options.holdFirst;
    });
    return link;
  }

  async function deviceSends(...payloads: string[]): Promise<void> {
    const device = await mqtt.connectAsync(url, { clientId: `dev-${Math.random().toString(16).slice(2, 10)}`, reconnectPeriod: 0 });
    devices.push(device);
    for (const payload of payloads) await device.publishAsync('dev/d1/events', payload, { qos: 1 });
  }

  it('takes no further message while maxUnconfirmed of its publishes await the broker, and resumes at half', async () => {
    const received: string[] = [];
    const link = await startLink(received, { maxUnconfirmed: 4 });
    expect(link.isReady).toBe(true);

    broker.send('hold -out');
    const acks = [1, 2, 3, 4].map((i) => link.publish('dev/d1/acks', `ack-${i}`));
    await broker.until(() => heldCount() === 4, 'the broker to hold 4 acks');
    expect(link.unconfirmedPublishes).toBe(4);

    await deviceSends('event-1', 'event-2', 'event-3');
    // The first is handed over; the next waits until the broker confirms acks.
    await broker.until(() => received.length >= 1, 'the first event');
    await sleep(300);
    expect(received).toEqual(['event-1']);

    // One confirmed: 3 still wait, more than half the limit, so still nothing.
    broker.send('release 1');
    await acks[0];
    await sleep(300);
    expect(link.unconfirmedPublishes).toBe(3);
    expect(received).toEqual(['event-1']);

    // Two confirmed: down to half, and the rest flow, in order.
    broker.send('release 1');
    await acks[1];
    await broker.until(() => received.length === 3, 'the held events');
    expect(received).toEqual(['event-1', 'event-2', 'event-3']);

    broker.send('release-all');
    await Promise.all(acks);
    expect(link.unconfirmedPublishes).toBe(0);
  });

  it('has its publishes confirmed while the handover of an incoming message is stuck', async () => {
    let unblock!: () => void;
    const holdFirst = new Promise<void>((resolve) => (unblock = resolve));
    const received: string[] = [];
    const link = await startLink(received, { holdFirst });
    await deviceSends('event-1', 'event-2');
    await broker.until(() => received.length === 1, 'the first event');
    // On the subscribing connection this PUBACK would wait behind event-2, unread until event-1 is taken.
    const outcome = await Promise.race([link.publish('dev/d1/acks', 'ack').then(() => 'confirmed'), sleep(3000).then(() => 'timed out')]);
    expect(outcome).toBe('confirmed');
    expect(received).toEqual(['event-1']);
    unblock();
    await broker.until(() => received.length === 2, 'the second event');
  });

  it('refuses a limit that would not fit MQTT packet ids', () => {
    const make = (max: number) => new MqttClientLink(url, {}, createLogger('silent'), max);
    expect(() => make(0)).toThrow(/maxUnconfirmed must be a whole number from 1 to 32768, got 0/);
    expect(() => make(40_000)).toThrow(/got 40000/);
    expect(make(32_768).maxUnconfirmed).toBe(32_768);
  });

  it('keeps its subscribing connection while events arrive, though the broker answers no ping on it', async () => {
    const broker = await streamingBroker();
    try {
      const received: string[] = [];
      const link = new MqttClientLink(
        broker.url,
        { clientId: 'gw-keepalive', protocolVersion: 4, clean: true, reconnectPeriod: 0, keepalive: 1 },
        createLogger('silent'),
      );
      links.push(link);
      await link.start(['dev/+/events'], async (message) => {
        received.push(message.payload.toString());
      });
      // Keepalive 1 s: mqtt.js pings after 1 s without signs of life and gives up 0.5 s later.
      await sleep(3000);
      expect(received.length).toBeGreaterThan(10);
      expect(broker.unansweredPings).toBe(0);
      expect(broker.connects.filter((id) => id === 'gw-keepalive')).toHaveLength(1);
      expect(link.isReady).toBe(true);
    } finally {
      await Promise.all(links.splice(0).map((link) => link.close()));
      await broker.close();
    }
  });
});

/**
 * A broker that streams an event to every subscriber each 100 ms and answers
 * PINGREQ only on publishing connections (client id ending in -out), as a busy
 * broker whose PINGRESP sits behind a backlog of events would seem to.
 */
async function streamingBroker() {
  const connects: string[] = [];
  let unansweredPings = 0;
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const send = (packet: Packet) => socket.write(mqttPacket.generate(packet));
    let clientId = '';
    let timer: NodeJS.Timeout | undefined;
    parser.on('packet', (packet) => {
      if (packet.cmd === 'connect') {
        clientId = packet.clientId;
        connects.push(clientId);
        send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
      } else if (packet.cmd === 'subscribe') {
        send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map(() => 1) });
        let n = 0;
        timer = setInterval(() => {
          n += 1;
          send({ cmd: 'publish', topic: 'dev/d1/events', payload: `event-${n}`, qos: 1, messageId: n, retain: false, dup: false });
        }, 100);
        timers.add(timer);
      } else if (packet.cmd === 'pingreq') {
        if (clientId.endsWith('-out')) send({ cmd: 'pingresp' });
        else unansweredPings += 1;
      } else if (packet.cmd === 'disconnect') {
        socket.end();
      }
    });
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (timer) {
        clearInterval(timer);
        timers.delete(timer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connects,
    get unansweredPings() {
      return unansweredPings;
    },
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
