import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { provisionTopic } from '../libs/protocol/src';
import { ApiClient, createCommunity, createDevice, eventually } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { isScaled, itEmbeddedOnly, modeName } from './support/test-mode';

jest.setTimeout(90_000);

// Logins are the broker's to refuse: the embedded one here; in scaled mode Mosquitto's dynamic security
// (test/dynsec.e2e-spec.ts) or EMQX through the broker-auth endpoints (below), not the CI's open Mosquitto.

const BROKER_SECRET = 'broker-secret-0123456789abcdef';
const protocolVersion = isScaled ? 5 : 4;

/** Connects, or resolves with the CONNACK refusal: how a device sees a login. */
function tryConnect(url: string, options: mqtt.IClientOptions): Promise<{ client: MqttClient | null; error: string | null }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { protocolVersion, reconnectPeriod: 0, connectTimeout: 5000, ...options });
    client.once('connect', () => resolve({ client, error: null }));
    client.once('error', (err) => {
      client.end(true);
      resolve({ client: null, error: err.message });
    });
  });
}

async function connectDevice(url: string, id: string, password: string, clean = false) {
  const { client, error } = await tryConnect(url, { clientId: id, username: id, password, clean });
  if (!client) throw new Error(`device ${id} could not connect: ${error}`);
  return client;
}

describe(`device fleet: credentials, provisioning, commands — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  let communityId: string;

  beforeAll(async () => {
    gateway = await GatewayProcess.start({
      env: {
        BROKER_AUTH_SECRET: BROKER_SECRET,
        AUTH_FAILURE_THRESHOLD: '3',
        // The gateway's own broker login, as EMQX would see it (the embedded broker ignores it).
        ...(isScaled ? {} : { MQTT_USERNAME: 'jifen-gw', MQTT_PASSWORD: 'gw-password-0123456789' }),
      },
    });
    api = new ApiClient(gateway.baseUrl);
    communityId = await createCommunity(api, '海港区一社区');
  });

  afterAll(async () => {
    await gateway?.dispose();
  });

  describe('credentials lifecycle', () => {
    itEmbeddedOnly('rotates a password: the new one works, the old one is refused at once and the live session is dropped', async () => {
      const device = await createDevice(api, communityId, 'bin');
      const live = await connectDevice(gateway.mqttUrl, device.id, device.password);
      const closed = new Promise<void>((resolve) => live.once('close', () => resolve()));
      live.options.reconnectPeriod = 0;

      const rotated = await api.request('POST', `/api/v1/devices/${device.id}/credentials`);
      expect(rotated.status).toBe(200);
      const newPassword: string = rotated.body.mqtt.password;
      expect(newPassword).not.toBe(device.password);
      expect(rotated.body).not.toHaveProperty('passwordHash');
      await closed;

      expect((await tryConnect(gateway.mqttUrl, { clientId: device.id, username: device.id, password: device.password })).error).toMatch(
        /Bad username or password|Not authorized/i,
      );
      const again = await connectDevice(gateway.mqttUrl, device.id, newPassword);
      await again.endAsync();
    });

    itEmbeddedOnly('disables, re-enables and retires a device; a retired id is refused for ever, also for a new registration', async () => {
      const device = await createDevice(api, communityId, 'terminal');
      expect((await api.request('PATCH', `/api/v1/devices/${device.id}`, { isActive: false })).body.state).toBe('disabled');
      expect(
        (await tryConnect(gateway.mqttUrl, { clientId: device.id, username: device.id, password: device.password })).error,
      ).not.toBeNull();
      expect((await api.request('PATCH', `/api/v1/devices/${device.id}`, { isActive: true })).body.state).toBe('active');
      (await connectDevice(gateway.mqttUrl, device.id, device.password)).end(true);

      const retired = await api.request('POST', `/api/v1/devices/${device.id}/retire`);
      expect(retired.status).toBe(200);
      expect(retired.body).toMatchObject({ state: 'retired', isActive: false });
      expect(
        (await tryConnect(gateway.mqttUrl, { clientId: device.id, username: device.id, password: device.password })).error,
      ).not.toBeNull();

      const reEnable = await api.request('PATCH', `/api/v1/devices/${device.id}`, { isActive: true });
      expect(reEnable.status).toBe(409);
      expect(reEnable.body.error.message).toContain('retired');
      expect((await api.request('POST', `/api/v1/devices/${device.id}/credentials`)).status).toBe(409);
      const reuse = await api.request('POST', '/api/v1/devices', { kind: 'bin', communityId, id: device.id });
      expect(reuse.status).toBe(409);
      expect(reuse.body.error.code).toBe('device-id-taken');
    });

    it('registers devices from a CSV, each with its own password, or none when a row is broken', async () => {
      const prefix = `csv${randomBytes(3).toString('hex')}`;
      const post = (csv: string) =>
        fetch(`${gateway.baseUrl}/api/v1/communities/${communityId}/devices/import`, {
          method: 'POST',
          headers: { authorization: `Bearer ${'test-admin-token-0123456789abcdef'}`, 'content-type': 'text/csv' },
          body: csv,
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

      const broken = await post(`id,kind,label\n${prefix}-1,bin,东门\n${prefix}-2,kiosk,西门\n${prefix}-3,bin,\n`);
      expect(broken.status).toBe(400);
      expect(broken.body.error.details.rows).toEqual([{ line: 3, message: 'kind "kiosk" must be bin, terminal or counter' }]);
      expect((await api.request('GET', `/api/v1/devices/${prefix}-1`)).status).toBe(404);

      const ok = await post(`编号,类型,名称\n${prefix}-1,bin,东门\n${prefix}-2,terminal,活动室\n`);
      expect(ok.status).toBe(201);
      expect(ok.body.created).toBe(2);
      const [a, b] = ok.body.devices;
      expect(a.mqtt.password).not.toBe(b.mqtt.password);
      (await connectDevice(gateway.mqttUrl, b.id, b.mqtt.password)).end(true);

      const taken = await post(`id,kind\n${prefix}-9,bin\n${prefix}-1,bin\n`);
      expect(taken.status).toBe(409);
      expect(taken.body.error.details.takenIds).toEqual([`${prefix}-1`]);
      expect((await api.request('GET', `/api/v1/devices/${prefix}-9`)).status).toBe(404);
    });

    it('keeps passwords out of the audit log and the logs', async () => {
      const device = await createDevice(api, communityId, 'counter');
      const audit = await api.ok('GET', '/api/v1/audit-log?entityType=device');
      expect(JSON.stringify(audit)).not.toContain(device.password);
      expect(gateway.stdout + gateway.stderr).not.toContain(device.password);
    });
  });

  describe('refused logins', () => {
    itEmbeddedOnly('counts wrong passwords per client id and lists them for operators', async () => {
      const device = await createDevice(api, communityId, 'bin');
      for (let i = 0; i < 3; i++) {
        await tryConnect(gateway.mqttUrl, { clientId: device.id, username: device.id, password: 'guessed-pw-123' });
      }
      await tryConnect(gateway.mqttUrl, { clientId: 'stranger', username: 'no-such-device', password: 'x' });
      const failures = await api.ok('GET', '/api/v1/fleet/auth-failures');
      expect(failures.byClientId).toEqual(
        expect.arrayContaining([
          { clientId: device.id, count: 3 },
          { clientId: 'stranger', count: 1 },
        ]),
      );
      expect(failures.recent[0]).toMatchObject({ clientId: 'stranger', reason: 'unknown-device' });
      expect(JSON.stringify(failures)).not.toContain('guessed-pw-123');
      expect(gateway.stdout).toContain('repeated failed logins');
    });
  });

  describe('self-provisioning', () => {
    let key: { id: string; key: string; secret: string };

    /** A factory-fresh device: logs in as `provision`, asks, waits for its answer. */
    async function provision(request: Record<string, unknown>, clientId = `fresh-${randomBytes(4).toString('hex')}`) {
      const client = await (async () => {
        const { client, error } = await tryConnect(gateway.mqttUrl, {
          clientId,
          username: 'provision',
          password: 'provision',
          clean: true,
        });
        if (!client) throw new Error(error!);
        return client;
      })();
      const answer = new Promise<any>((resolve) => client.on('message', (_t, p) => resolve(JSON.parse(p.toString('utf8')))));
      await client.subscribeAsync(provisionTopic(clientId, 'response'), { qos: 1 });
      await client.publishAsync(provisionTopic(clientId, 'request'), JSON.stringify(request), { qos: 1 });
      const response = await Promise.race([answer, new Promise((_, reject) => setTimeout(() => reject(new Error('no answer')), 10_000))]);
      await client.endAsync();
      return response;
    }

    beforeAll(async () => {
      const res = await api.request('POST', `/api/v1/communities/${communityId}/provisioning-keys`, {
        label: '第一批回收箱',
        kinds: ['bin'],
        maxDevices: 2,
        expiresInHours: 24,
      });
      expect(res.status).toBe(201);
      key = res.body;
    });

    it('shows the secret once: not in the list, not in the audit log', async () => {
      const list = await api.ok('GET', `/api/v1/communities/${communityId}/provisioning-keys`);
      expect(list.provisioningKeys.map((k: { id: string }) => k.id)).toContain(key.id);
      expect(JSON.stringify(list)).not.toContain(key.secret);
      expect(JSON.stringify(await api.ok('GET', '/api/v1/audit-log'))).not.toContain(key.secret);
    });

    it('creates a device that asks with the key and answers with its credentials, which then work', async () => {
      const serial = `SN-${randomBytes(4).toString('hex')}`;
      const answer = await provision({
        provisioningKey: key.key,
        provisioningSecret: key.secret,
        deviceId: serial,
        kind: 'bin',
        label: '东门',
      });
      expect(answer).toMatchObject({ status: 'ok', deviceId: serial, credentials: { username: serial, clientId: serial } });
      const device = await api.ok('GET', `/api/v1/devices/${serial}`);
      expect(device).toMatchObject({ communityId, kind: 'bin', label: '东门', provisioningKeyId: key.id });
      (await connectDevice(gateway.mqttUrl, serial, answer.credentials.password)).end(true);
      expect(gateway.stdout).not.toContain(answer.credentials.password);
      expect(gateway.stdout).not.toContain(key.secret);
    });

    it('refuses, each with its own reason: wrong secret, unknown key, wrong kind, taken id, used up, revoked, expired, bad request', async () => {
      const base = { provisioningKey: key.key, provisioningSecret: key.secret, kind: 'bin' };
      expect((await provision({ ...base, provisioningSecret: 'guess' })).reason).toBe('wrong-secret');
      expect((await provision({ ...base, provisioningKey: 'pk_nope' })).reason).toBe('unknown-key');
      expect((await provision({ ...base, kind: 'terminal' })).reason).toBe('kind-not-allowed');
      const taken = await createDevice(api, communityId, 'bin');
      expect((await provision({ ...base, deviceId: taken.id })).reason).toBe('device-id-taken');
      expect((await provision({ ...base, kind: 'kiosk' })).reason).toBe('invalid-request');

      expect((await provision(base)).status).toBe('ok'); // the second of two
      const usedUp = await provision(base);
      expect(usedUp).toMatchObject({ status: 'refused', reason: 'key-used-up' });
      expect(
        (await api.ok('GET', `/api/v1/communities/${communityId}/provisioning-keys`)).provisioningKeys.find((k: any) => k.id === key.id),
      ).toMatchObject({ usedCount: 2, maxDevices: 2 });

      const other = (
        await api.request('POST', `/api/v1/communities/${communityId}/provisioning-keys`, { maxDevices: 5, expiresInHours: 1 })
      ).body;
      expect((await api.request('DELETE', `/api/v1/provisioning-keys/${other.id}`)).body.revokedAt).not.toBeNull();
      expect((await provision({ provisioningKey: other.key, provisioningSecret: other.secret, kind: 'terminal' })).reason).toBe(
        'key-revoked',
      );
    });

    itEmbeddedOnly('lets a provisioning login do nothing but ask', async () => {
      const clientId = `fresh-${randomBytes(4).toString('hex')}`;
      const { client } = await tryConnect(gateway.mqttUrl, { clientId, username: 'provision', password: 'x', clean: true });
      for (const filter of [provisionTopic('someone-else', 'response'), 'jifen/v1/devices/+/commands', '#']) {
        await expect(client!.subscribeAsync(filter, { qos: 1 })).rejects.toThrow(/Subscribe error/);
      }
      // Its own response topic it may have.
      expect((await client!.subscribeAsync(provisionTopic(clientId, 'response'), { qos: 1 }))[0]!.qos).toBe(1);
      // A publish outside its request topic closes the connection (MQTT 3.1.1 cannot refuse one publish).
      const closed = new Promise<void>((resolve) => client!.once('close', () => resolve()));
      client!.publish('jifen/v1/devices/bin-1/events', '{}', { qos: 1 });
      await closed;
      client!.end(true);
    });
  });

  describe('commands', () => {
    it('queues a command for an offline device and delivers it once when it comes online; the result is recorded; a stray result is a dead letter', async () => {
      const device = await createDevice(api, communityId, 'bin');
      // First login: a persistent session subscribed to its commands, then offline.
      const first = await connectDevice(gateway.mqttUrl, device.id, device.password);
      await first.subscribeAsync(`jifen/v1/devices/${device.id}/commands`, { qos: 1 });
      await first.endAsync();

      const created = await api.request('POST', `/api/v1/devices/${device.id}/commands`, {
        name: 'show-message',
        params: { zh: '明天上午清运', en: 'Collection tomorrow morning' },
        expiresInSeconds: 600,
      });
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('queued');
      const expired = await api.ok('POST', `/api/v1/devices/${device.id}/commands`, { name: 'reboot', expiresInSeconds: 10 });
      expect((await api.request('POST', `/api/v1/devices/${device.id}/commands`, { name: 'set-config', params: {} })).status).toBe(400);
      expect((await api.request('POST', `/api/v1/devices/${device.id}/commands`, { name: 'self-destruct' })).status).toBe(400);

      await new Promise((r) => setTimeout(r, 10_500)); // the reboot expires unsent
      const received: any[] = [];
      const device2 = mqtt.connect(gateway.mqttUrl, {
        clientId: device.id,
        username: device.id,
        password: device.password,
        clean: false,
        protocolVersion,
      });
      device2.on('message', (topic, payload) => {
        if (topic.endsWith('/commands')) received.push(JSON.parse(payload.toString('utf8')));
      });
      await new Promise<void>((resolve) => device2.once('connect', () => resolve()));
      await device2.subscribeAsync(`jifen/v1/devices/${device.id}/commands`, { qos: 1 });
      await device2.publishAsync(`jifen/v1/devices/${device.id}/status`, '{"state":"online"}', { qos: 1, retain: true });

      await eventually(async () => (received.length > 0 ? true : undefined), 10_000, 'the command');
      expect(received).toEqual([
        {
          commandId: created.body.id,
          name: 'show-message',
          params: { zh: '明天上午清运', en: 'Collection tomorrow morning', seconds: 30 },
          expiresAt: expect.any(String),
        },
      ]);
      // Another online status: nothing is sent twice.
      await device2.publishAsync(`jifen/v1/devices/${device.id}/status`, '{"state":"online"}', { qos: 1, retain: true });
      await new Promise((r) => setTimeout(r, 1000));
      expect(received).toHaveLength(1);

      await device2.publishAsync(
        `jifen/v1/devices/${device.id}/command-results`,
        JSON.stringify({ commandId: created.body.id, ok: true, detail: 'shown' }),
        { qos: 1 },
      );
      const list = await eventually(async () => {
        const l = await api.ok('GET', `/api/v1/devices/${device.id}/commands`);
        return l.commands.find((c: any) => c.id === created.body.id).status === 'succeeded' ? l : undefined;
      }).catch((err) => {
        throw new Error(
          `${err}\n${gateway.stdout
            .split('\n')
            .filter((l) => /command|error/i.test(l))
            .join('\n')}`,
        );
      });
      expect(list.commands.find((c: any) => c.id === created.body.id)).toMatchObject({ status: 'succeeded', resultDetail: 'shown' });
      expect(list.commands.find((c: any) => c.id === expired.id)).toMatchObject({ status: 'expired', sentAt: null });

      // The same result again, and one for a command that does not exist: dead letters, nothing else changes.
      await device2.publishAsync(
        `jifen/v1/devices/${device.id}/command-results`,
        JSON.stringify({ commandId: created.body.id, ok: false }),
        { qos: 1 },
      );
      await device2.publishAsync(`jifen/v1/devices/${device.id}/command-results`, JSON.stringify({ commandId: 'nope', ok: true }), {
        qos: 1,
      });
      const letters = await eventually(async () => {
        const d = await api.ok('GET', `/api/v1/dead-letters?deviceId=${device.id}`);
        return d.deadLetters.length >= 2 ? d.deadLetters : undefined;
      });
      expect(letters.map((l: any) => l.reason.split(':')[0]).sort()).toEqual(['command-already-finished', 'unknown-command']);
      expect(
        (await api.ok('GET', `/api/v1/devices/${device.id}/commands`)).commands.find((c: any) => c.id === created.body.id).status,
      ).toBe('succeeded');
      await device2.endAsync();
    });

    it('keeps queued commands across a gateway restart', async () => {
      const device = await createDevice(api, communityId, 'terminal');
      const created = await api.ok('POST', `/api/v1/devices/${device.id}/commands`, { name: 'open-door', params: { seconds: 20 } });
      await gateway.stop();
      await gateway.restart();
      const received: any[] = [];
      const client = mqtt.connect(gateway.mqttUrl, {
        clientId: device.id,
        username: device.id,
        password: device.password,
        clean: false,
        protocolVersion,
      });
      client.on('message', (topic, payload) => received.push(JSON.parse(payload.toString('utf8'))));
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      await client.subscribeAsync(`jifen/v1/devices/${device.id}/commands`, { qos: 1 });
      await client.publishAsync(`jifen/v1/devices/${device.id}/status`, '{"state":"online"}', { qos: 1, retain: true });
      await eventually(async () => (received.length > 0 ? true : undefined), 10_000, 'the command after a restart');
      expect(received[0]).toMatchObject({ commandId: created.id, name: 'open-door', params: { seconds: 20 } });
      await client.endAsync();
    });
  });

  describe('EMQX HTTP auth endpoints', () => {
    const call = (path: string, body: unknown, secret: string | null = BROKER_SECRET) =>
      fetch(`${gateway.baseUrl}/api/v1/broker-auth/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(secret ? { 'x-jifen-broker-secret': secret } : {}) },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

    it('answers allow for a device with its password, deny otherwise, and refuses a caller without the secret', async () => {
      const device = await createDevice(api, communityId, 'bin');
      const login = { clientid: device.id, username: device.id, password: device.password, peerhost: '198.51.100.4' };
      expect(await call('authenticate', login)).toEqual({ status: 200, body: { result: 'allow', is_superuser: false } });
      expect((await call('authenticate', { ...login, password: 'nope' })).body).toEqual({ result: 'deny' });
      expect((await call('authenticate', { ...login, username: 'ghost', clientid: 'ghost' })).body).toEqual({ result: 'deny' });
      expect((await call('authenticate', login, null)).status).toBe(401);
      expect((await call('authenticate', login, 'wrong-secret-0123456789')).status).toBe(401);
      const failures = await api.ok('GET', '/api/v1/fleet/auth-failures');
      expect(failures.recent).toEqual(
        expect.arrayContaining([expect.objectContaining({ clientId: device.id, address: '198.51.100.4', source: 'broker-http-auth' })]),
      );
    });

    itEmbeddedOnly("makes the gateway's own login a superuser, and only with its password", async () => {
      const gw = { clientid: 'jifen-gateway-1', username: 'jifen-gw', password: 'gw-password-0123456789' };
      expect((await call('authenticate', gw)).body).toEqual({ result: 'allow', is_superuser: true });
      expect((await call('authenticate', { ...gw, password: 'gw-password-0123456780' })).body).toEqual({ result: 'deny' });
    });

    it('authorises a device on its own topics only, by direction', async () => {
      const q = (topic: string, action: string, username = 'bin-7', clientid = 'bin-7') =>
        call('authorize', { clientid, username, topic, action });
      expect((await q('jifen/v1/devices/bin-7/events', 'publish')).body).toEqual({ result: 'allow' });
      expect((await q('jifen/v1/devices/bin-7/commands', 'subscribe')).body).toEqual({ result: 'allow' });
      expect((await q('jifen/v1/devices/bin-7/acks', 'publish')).body).toEqual({ result: 'deny' });
      expect((await q('jifen/v1/devices/bin-8/events', 'publish')).body).toEqual({ result: 'deny' });
      expect((await q('jifen/v1/devices/+/events', 'subscribe')).body).toEqual({ result: 'deny' });
      expect((await q('jifen/v1/devices/bin-7/events', 'publish', 'bin-7', 'bin-8')).body).toEqual({ result: 'deny' });
      expect((await q('jifen/v1/provision/abc/request', 'publish', 'provision', 'abc')).body).toEqual({ result: 'allow' });
      expect((await q('jifen/v1/provision/xyz/response', 'subscribe', 'provision', 'abc')).body).toEqual({ result: 'deny' });
    });
  });
});
