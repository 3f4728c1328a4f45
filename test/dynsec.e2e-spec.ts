import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { type Ack, deviceTopic, provisionTopic } from '../libs/protocol/src';
import { ApiClient, createCommunity, createDevice, createResidentWithCard, eventually } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { MosquittoDynsec, missingMosquitto } from './support/mosquitto-dynsec';
import { isScaled } from './support/test-mode';

jest.setTimeout(120_000);

const missing = missingMosquitto();
if (missing && process.env['CI'] === 'true') throw new Error(`the dynamic-security suite needs ${missing}`);
const describeWithMosquitto = missing ? describe.skip : describe;
if (missing) console.warn(`skipping the Mosquitto dynamic-security suite: install ${missing}`);

function tryConnect(url: string, id: string, password: string, extra: mqtt.IClientOptions = {}) {
  return new Promise<{ client: MqttClient | null; error: string | null }>((resolve) => {
    const client = mqtt.connect(url, {
      clientId: id,
      username: id,
      password,
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...extra,
    });
    client.once('connect', () => resolve({ client, error: null }));
    client.once('error', (err) => {
      client.end(true);
      resolve({ client: null, error: err.message });
    });
  });
}

async function connectDevice(url: string, id: string, password: string) {
  const { client, error } = await tryConnect(url, id, password);
  if (!client) throw new Error(`${id} could not connect: ${error}`);
  return client;
}

describeWithMosquitto('scaled mode: Mosquitto dynamic security kept in step with the registry', () => {
  let broker: MosquittoDynsec;
  let gateway: GatewayProcess;
  let api: ApiClient;
  let communityId: string;
  let earlier: { id: string; password: string };

  beforeAll(async () => {
    broker = await MosquittoDynsec.start();
    const brokerEnv = {
      MQTT_URL: broker.url,
      MQTT_USERNAME: broker.adminUsername,
      MQTT_PASSWORD: broker.adminPassword,
    };
    // First without the sync: a device registered then is unknown to the broker.
    const first = await GatewayProcess.start({ env: brokerEnv });
    const firstApi = new ApiClient(first.baseUrl);
    communityId = await createCommunity(firstApi, '渤海社区');
    earlier = await createDevice(firstApi, communityId, 'bin');
    await first.stop();
    gateway = await GatewayProcess.start({
      env: {
        ...brokerEnv,
        MQTT_DYNSEC: 'true',
        DATA_DIR: first.dataDir,
        ...(isScaled ? { DATABASE_URL: first.databaseUrl! } : {}),
      },
    });
    api = new ApiClient(gateway.baseUrl);
  });

  afterAll(async () => {
    await gateway?.dispose();
    await broker?.stop();
  });

  it('adds a device registered while the sync was off at start, without a password until its credentials are rotated', async () => {
    expect(gateway.stdout).toContain('rotate their credentials');
    expect((await tryConnect(broker.url, earlier.id, earlier.password)).error).not.toBeNull();
    const rotated = await api.ok('POST', `/api/v1/devices/${earlier.id}/credentials`);
    (await connectDevice(broker.url, earlier.id, rotated.mqtt.password)).end(true);
  });

  it('lets a registered device in to publish on its own topics and get its ack; refuses the wrong password and an unknown device', async () => {
    const { residentId, cardUid } = await createResidentWithCard(api, communityId);
    const device = await createDevice(api, communityId, 'bin');
    expect((await tryConnect(broker.url, device.id, 'not-the-password')).error).toMatch(/Bad User Name or Password|Not authorized/i);
    expect((await tryConnect(broker.url, 'ghost-device', 'whatever')).error).not.toBeNull();

    const client = await connectDevice(broker.url, device.id, device.password);
    const acks: Ack[] = [];
    client.on('message', (topic, payload) => topic.endsWith('/acks') && acks.push(JSON.parse(payload.toString('utf8')) as Ack));
    await client.subscribeAsync(deviceTopic(device.id, 'acks'), { qos: 1 });
    const eventId = `e-${randomBytes(4).toString('hex')}`;
    await client.publishAsync(
      deviceTopic(device.id, 'events'),
      JSON.stringify({
        eventId,
        seq: 1,
        occurredAt: new Date().toISOString(),
        type: 'deposit',
        cardUid,
        items: [{ kind: 'alkaline', count: 2 }],
      }),
      { qos: 1 },
    );
    const ack = await eventually(async () => acks.find((a) => a.eventId === eventId), 15_000, 'the ack through Mosquitto');
    expect(ack.result).toBe('credited');
    expect((await api.ok('GET', `/api/v1/residents/${residentId}`)).balance).toBe(ack.points);
    await client.endAsync();
  });

  it("keeps a device off another device's topics", async () => {
    const a = await createDevice(api, communityId, 'bin');
    const b = await createDevice(api, communityId, 'bin');
    const clientA = await connectDevice(broker.url, a.id, a.password);
    const clientB = await connectDevice(broker.url, b.id, b.password);
    const seenByB: string[] = [];
    clientB.on('message', (topic) => seenByB.push(topic));
    await clientB.subscribeAsync(deviceTopic(b.id, 'commands'), { qos: 1 });

    // Subscribing to B's acks or everyone's events: not authorised (MQTT 5 reason code 0x87).
    for (const filter of [deviceTopic(b.id, 'acks'), 'jifen/v1/devices/+/events']) {
      const granted = await clientA
        .subscribeAsync(filter, { qos: 1 })
        .catch((err: { granted?: { qos: number }[] }) => err.granted ?? [{ qos: 135 }]);
      expect(granted[0]!.qos).toBe(135);
    }
    // Publishing on B's commands: dropped by the broker, B sees nothing.
    await clientA
      .publishAsync(
        deviceTopic(b.id, 'commands'),
        '{"commandId":"x","name":"open-door","params":{},"expiresAt":"2030-01-01T00:00:00.000Z"}',
        { qos: 1 },
      )
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
    expect(seenByB).toEqual([]);
    await clientA.endAsync();
    await clientB.endAsync();
  });

  it('refuses a disabled device (and drops its session), lets it in again when re-enabled, and never after it is retired', async () => {
    const device = await createDevice(api, communityId, 'terminal');
    const live = await connectDevice(broker.url, device.id, device.password);
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()));
    await api.ok('PATCH', `/api/v1/devices/${device.id}`, { isActive: false });
    await closed;
    expect((await tryConnect(broker.url, device.id, device.password)).error).not.toBeNull();
    await api.ok('PATCH', `/api/v1/devices/${device.id}`, { isActive: true });
    (await connectDevice(broker.url, device.id, device.password)).end(true);
    await api.ok('POST', `/api/v1/devices/${device.id}/retire`);
    expect((await tryConnect(broker.url, device.id, device.password)).error).not.toBeNull();
  });

  it('refuses the old password after a rotation and drops the live session; the new one works', async () => {
    const device = await createDevice(api, communityId, 'bin');
    const live = await connectDevice(broker.url, device.id, device.password);
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()));
    const rotated = await api.ok('POST', `/api/v1/devices/${device.id}/credentials`);
    await closed;
    expect((await tryConnect(broker.url, device.id, device.password)).error).not.toBeNull();
    (await connectDevice(broker.url, device.id, rotated.mqtt.password)).end(true);
  });

  it("refuses a device's login under another client id", async () => {
    const device = await createDevice(api, communityId, 'bin');
    expect((await tryConnect(broker.url, device.id, device.password, { clientId: 'someone-else' })).error).not.toBeNull();
  });

  it('lets a factory-fresh device provision itself through Mosquitto', async () => {
    const key = await api.ok('POST', `/api/v1/communities/${communityId}/provisioning-keys`, { maxDevices: 1, expiresInHours: 1 });
    const clientId = randomBytes(12).toString('hex');
    const { client, error } = await tryConnect(broker.url, clientId, 'provision', { username: 'provision', clean: true });
    expect(error).toBeNull();
    const answer = new Promise<any>((resolve) => client!.on('message', (_t, p) => resolve(JSON.parse(p.toString('utf8')))));
    await client!.subscribeAsync(provisionTopic(clientId, 'response'), { qos: 1 });
    await client!.publishAsync(
      provisionTopic(clientId, 'request'),
      JSON.stringify({ provisioningKey: key.key, provisioningSecret: key.secret, kind: 'bin' }),
      { qos: 1 },
    );
    const response = await Promise.race([
      answer,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no provisioning answer')), 10_000)),
    ]);
    expect(response.status).toBe('ok');
    // The wildcard over everyone's responses is refused.
    await expect(client!.subscribeAsync('jifen/v1/provision/+/response', { qos: 1 })).rejects.toThrow(/Not authorized/);
    await client!.endAsync();
    (await connectDevice(broker.url, response.deviceId, response.credentials.password)).end(true);
  });
});
