import { EventEmitter } from 'node:events';
import { type IClientOptions, type MqttClient } from 'mqtt';
import { type DeviceEvent } from '../payloads';
import { type AckReceived, DeviceClient, mqttLogOption } from './device-client';
import { MemoryOutbox } from './outbox';

/** A stand-in for mqtt.js's client: records what the device publishes and subscribes to. */
class FakeMqtt extends EventEmitter {
  connected = false;
  published: { topic: string; payload: string; qos?: number; retain?: boolean }[] = [];
  subscriptions: Record<string, { qos: number }> = {};
  /** The socket: what was asked of Nagle's algorithm on each connect. */
  readonly stream = { noDelay: [] as boolean[], setNoDelay: (on: boolean) => this.stream.noDelay.push(on), destroy: () => undefined };
  constructor(readonly options: IClientOptions) {
    super();
  }
  publish(topic: string, payload: string, opts: { qos?: number; retain?: boolean } = {}): this {
    this.published.push({ topic, payload, ...opts });
    return this;
  }
  subscribe(map: Record<string, { qos: number }>, cb: (err: Error | null) => void): this {
    Object.assign(this.subscriptions, map);
    cb(null);
    return this;
  }
  end(_force: boolean, _opts: object, cb: () => void): this {
    this.connected = false;
    cb();
    return this;
  }
  goOnline(): void {
    this.connected = true;
    this.emit('connect');
  }
  deliver(topic: string, payload: object | string): void {
    this.emit('message', topic, Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)));
  }
}

const ROOT = 'jifen/v1/devices/bin-1';
const deposit = (eventId: string): DeviceEvent => ({
  eventId,
  seq: 1,
  occurredAt: '2026-11-23T08:00:00.000Z',
  type: 'deposit',
  cardUid: 'DEADBEEF',
  items: [{ kind: 'alkaline', count: 2 }],
});
const creditedAck = (eventId: string) => ({
  eventId,
  result: 'credited',
  points: 2,
  balance: 10,
  display: { zh: '+2 积分', en: '+2 points' },
});

function makeClient(overrides: Partial<ConstructorParameters<typeof DeviceClient>[0]> = {}) {
  let fake!: FakeMqtt;
  const outbox = new MemoryOutbox(10);
  const client = new DeviceClient({
    url: 'mqtt://fake',
    deviceId: 'bin-1',
    password: 'pw',
    outbox,
    telemetryIntervalMs: 0,
    resendTickMs: 1_000_000,
    now: () => Date.parse('2026-11-23T08:00:00.000Z'),
    connect: (_url, options) => {
      fake = new FakeMqtt(options);
      return fake as unknown as MqttClient;
    },
    ...overrides,
  });
  const started = client.start();
  fake.goOnline();
  return { client, outbox, fake: () => fake, started };
}

describe('DeviceClient', () => {
  it('connects as the device with a persistent session, an offline will, retained online status and QoS 1 subscriptions', async () => {
    const { client, fake, started } = makeClient();
    await started;
    const f = fake();
    expect(f.options).toMatchObject({
      clientId: 'bin-1',
      username: 'bin-1',
      clean: false,
      will: { topic: `${ROOT}/status`, qos: 1, retain: true },
    });
    expect(String(f.options.will!.payload)).toBe('{"state":"offline"}');
    expect(f.published[0]).toEqual({ topic: `${ROOT}/status`, payload: '{"state":"online"}', qos: 1, retain: true });
    expect(f.subscriptions).toEqual({ [`${ROOT}/acks`]: { qos: 1 }, [`${ROOT}/commands`]: { qos: 1 } });
    await client.stop();
  });

  it('turns Nagle’s algorithm off on every connect (a PUBACK must not hold back the next event)', async () => {
    const { client, fake, started } = makeClient();
    await started;
    fake().goOnline(); // a reconnect
    expect(fake().stream.noDelay).toEqual([true, true]);
    await client.stop();
  });

  it('stores an event before publishing it, keeps it until its ack, and reports a repeated ack and whether it matches', async () => {
    const { client, outbox, fake, started } = makeClient();
    await started;
    const acks: AckReceived[] = [];
    client.on('ack', (a) => acks.push(a));
    await client.send(deposit('e1'));
    expect(outbox.has('e1')).toBe(true);
    const events = fake().published.filter((p) => p.topic === `${ROOT}/events`);
    expect(events).toEqual([{ topic: `${ROOT}/events`, payload: JSON.stringify(deposit('e1')), qos: 1 }]);

    fake().deliver(`${ROOT}/acks`, creditedAck('e1'));
    await new Promise((r) => setImmediate(r));
    expect(outbox.size).toBe(0);
    fake().deliver(`${ROOT}/acks`, creditedAck('e1'));
    fake().deliver(`${ROOT}/acks`, { ...creditedAck('e1'), points: 3 });
    await new Promise((r) => setImmediate(r));
    expect(acks.map((a) => [a.isRepeat, a.matchesFirst])).toEqual([
      [false, undefined],
      [true, true],
      [true, false],
    ]);
    await client.stop();
  });

  it('publishes nothing while offline and sends the outbox oldest first when the link returns', async () => {
    const { client, fake, started } = makeClient();
    await started;
    await client.goOffline();
    await client.send(deposit('a'));
    await client.send(deposit('b'));
    const back = client.goOnline();
    fake().goOnline();
    await back;
    expect(
      fake()
        .published.filter((p) => p.topic.endsWith('/events'))
        .map((p) => JSON.parse(p.payload).eventId),
    ).toEqual(['a', 'b']);
    await client.stop();
  });

  it('reports an ack that fails the schema instead of acting on it', async () => {
    const { client, outbox, fake, started } = makeClient();
    await started;
    const invalid: string[] = [];
    client.on('invalid-ack', ({ message }) => invalid.push(message));
    await client.send(deposit('e2'));
    fake().deliver(`${ROOT}/acks`, { eventId: 'e2', result: 'maybe' });
    await new Promise((r) => setImmediate(r));
    expect(invalid[0]).toMatch(/result/);
    expect(outbox.has('e2')).toBe(true);
    await client.stop();
  });

  it('answers commands: runs a show-message, refuses unknown and expired ones, says why a malformed one failed', async () => {
    const { client, fake, started } = makeClient();
    await started;
    const shown: unknown[] = [];
    client.on('display', (d) => shown.push(d));
    const later = '2026-11-23T09:00:00.000Z';
    fake().deliver(`${ROOT}/commands`, {
      commandId: 'c1',
      name: 'show-message',
      params: { zh: '暂停服务', en: 'Out of service' },
      expiresAt: later,
    });
    fake().deliver(`${ROOT}/commands`, { commandId: 'c2', name: 'self-destruct', params: {}, expiresAt: later });
    fake().deliver(`${ROOT}/commands`, { commandId: 'c3', name: 'reboot', params: {}, expiresAt: '2026-11-23T07:00:00.000Z' });
    fake().deliver(`${ROOT}/commands`, { commandId: 'c4', name: 'reboot' });
    await new Promise((r) => setTimeout(r, 10));
    const results = fake()
      .published.filter((p) => p.topic === `${ROOT}/command-results`)
      .map((p) => JSON.parse(p.payload) as { commandId: string })
      .sort((a, b) => a.commandId.localeCompare(b.commandId));
    expect(results).toEqual([
      { commandId: 'c1', ok: true, detail: 'shown' },
      { commandId: 'c2', ok: false, detail: 'this device does not support self-destruct' },
      { commandId: 'c3', ok: false, detail: 'expired at 2026-11-23T07:00:00.000Z; not run' },
      { commandId: 'c4', ok: false, detail: expect.stringMatching(/^invalid command: .*params/) },
    ]);
    expect(shown).toEqual([{ zh: '暂停服务', en: 'Out of service' }]);
    await client.stop();
  });

  it('puts readings, faults and the outbox depth in telemetry, at once when they change', async () => {
    const { client, fake, started } = makeClient();
    await started;
    client.updateTelemetry({ fillPercent: 40 });
    client.setFault('JAM', true);
    client.updateTelemetry({ fillPercent: 40 });
    const telemetry = fake()
      .published.filter((p) => p.topic === `${ROOT}/telemetry`)
      .map((p) => JSON.parse(p.payload));
    // On connect, then two changes; the repeated reading sent nothing.
    expect(telemetry).toHaveLength(3);
    expect(telemetry[2]).toMatchObject({ fillPercent: 40, faults: ['JAM'], outboxDepth: 0, sentAt: '2026-11-23T08:00:00.000Z' });
    // 8 of 10 outbox places taken: OUTBOX_HIGH.
    for (let i = 0; i < 8; i++) await client.send(deposit(`o${i}`));
    const last = JSON.parse(
      fake()
        .published.filter((p) => p.topic === `${ROOT}/telemetry`)
        .at(-1)!.payload,
    );
    expect(last).toMatchObject({ faults: ['JAM', 'OUTBOX_HIGH'], outboxDepth: 8 });
    await client.stop();
  });
});

describe('mqttLogOption', () => {
  it("silences mqtt.js's per-packet logger unless DEBUG asks for it", () => {
    const quiet = mqttLogOption({});
    expect(typeof quiet.log).toBe('function');
    expect(quiet.log!('sending packet %o', { cmd: 'publish' })).toBeUndefined();
    expect(mqttLogOption({ DEBUG: '*' })).toEqual({});
    expect(mqttLogOption({ DEBUG: 'express:*,mqttjs:client' })).toEqual({});
    expect(mqttLogOption({ DEBUG: 'express:*' }).log).toBe(quiet.log);
    expect(mqttLogOption({ DEBUG: 'jifen' }).log).toBe(quiet.log);
  });
});
