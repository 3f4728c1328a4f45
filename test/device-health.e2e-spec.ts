import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic } from '../libs/protocol/src';
import { ApiClient, createCommunity, createDevice, createResidentWithCard, eventually } from './support/api-client';
import { GatewayProcess, TEST_ADMIN_TOKEN } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { isScaled, modeName } from './support/test-mode';

jest.setTimeout(120_000);

interface StatusChange {
  state: string;
  reason: string;
  at: string;
}
interface Alert {
  id: string;
  subject: string;
  deviceId: string | null;
  cause: string;
  severity: string;
  status: string;
  acknowledgedBy: string | null;
  resolvedBy: string | null;
}

/** A bare device connection whose socket the test can cut (no DISCONNECT: the broker publishes the will). */
function rawDevice(url: string, device: { id: string; password: string }): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    clientId: device.id,
    username: device.id,
    password: device.password,
    clean: true,
    reconnectPeriod: 0,
    protocolVersion: isScaled ? 5 : 4,
    will: { topic: deviceTopic(device.id, 'status'), payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => {
      client.publish(deviceTopic(device.id, 'status'), '{"state":"online"}', { qos: 1, retain: true }, () => resolve(client));
    });
    client.once('error', reject);
  });
}

const publish = (client: MqttClient, topic: string, payload: unknown, retain = false) =>
  new Promise<void>((resolve) => client.publish(topic, JSON.stringify(payload), { qos: 1, retain }, () => resolve()));

describe(`device health, alerts, webhooks and metrics — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  let communityId: string;
  let hook: Server;
  const hookCalls: { body: { type: string; alert: Alert }; status: number }[] = [];
  let failuresLeft = 2;

  beforeAll(async () => {
    // The receiver fails its first two calls: the notifier must retry.
    hook = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        const status = failuresLeft-- > 0 ? 503 : 200;
        hookCalls.push({ body: JSON.parse(raw) as { type: string; alert: Alert }, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    gateway = await GatewayProcess.start({
      env: {
        HEALTH_HEARTBEAT_SECONDS: '1',
        HEALTH_TICK_MS: '200',
        HEALTH_FLUSH_MS: '300',
        HEALTH_SAMPLE_SECONDS: '1',
        ALERT_OFFLINE_SECONDS: '1',
        WEBHOOK_URLS: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/jifen`,
        WEBHOOK_RETRY_BASE_MS: '100',
      },
    });
    api = new ApiClient(gateway.baseUrl);
    communityId = await createCommunity(api);
  });

  afterAll(async () => {
    await gateway?.dispose();
    await new Promise((resolve) => hook?.close(resolve));
  });

  const history = async (id: string) =>
    (await api.ok<{ statusHistory: StatusChange[] }>('GET', `/api/v1/fleet/${id}`)).statusHistory.slice().reverse();
  const reasons = async (id: string) => (await history(id)).map((c) => `${c.state}:${c.reason}`);
  const waitForReasons = (id: string, expected: string[]) =>
    eventually(
      async () => {
        const got = await reasons(id);
        return JSON.stringify(got) === JSON.stringify(expected) ? got : undefined;
      },
      15_000,
      `status history ${expected.join(', ')}`,
    );
  const alertsOf = async (id: string) => (await api.ok<{ alerts: Alert[] }>('GET', `/api/v1/alerts?deviceId=${id}`)).alerts;

  it('keeps every status change with its reason: connected, timeout, activity, clean disconnect, will', async () => {
    const registered = await createDevice(api, communityId, 'terminal');
    let client = await rawDevice(gateway.mqttUrl, registered);
    // Silence for more than 1.5 heartbeats: offline although the TCP link is up (keep-alive pings do not count).
    await waitForReasons(registered.id, ['online:connected', 'offline:timeout']);
    expect(client.connected).toBe(true);

    await publish(client, deviceTopic(registered.id, 'telemetry'), { rssiDbm: -70 });
    await waitForReasons(registered.id, ['online:connected', 'offline:timeout', 'online:activity']);

    // Leaving on purpose: the device's own offline status, then DISCONNECT.
    await publish(client, deviceTopic(registered.id, 'status'), { state: 'offline', reason: 'shutdown' }, true);
    await client.endAsync();
    await waitForReasons(registered.id, ['online:connected', 'offline:timeout', 'online:activity', 'offline:clean-disconnect']);

    // Back, then the link dies without DISCONNECT: the broker publishes the last will.
    client = await rawDevice(gateway.mqttUrl, registered);
    await publish(client, deviceTopic(registered.id, 'telemetry'), { rssiDbm: -71 });
    await waitForReasons(registered.id, [
      'online:connected',
      'offline:timeout',
      'online:activity',
      'offline:clean-disconnect',
      'online:connected',
    ]);
    client.stream.destroy();
    const all = await eventually(async () => {
      const got = await reasons(registered.id);
      return got.length === 6 ? got : undefined;
    });
    // The will and the silence race; whichever comes first is the one change recorded.
    expect(['offline:will', 'offline:timeout']).toContain(all[5]);
    client.end(true);
  });

  it('records credentials-revoked when staff switch a connected device off', async () => {
    const registered = await createDevice(api, communityId, 'counter');
    const client = await rawDevice(gateway.mqttUrl, registered);
    await publish(client, deviceTopic(registered.id, 'telemetry'), { rssiDbm: -60 });
    await eventually(async () => ((await reasons(registered.id)).at(-1)?.startsWith('online:') ? true : undefined));
    await api.ok('PATCH', `/api/v1/devices/${registered.id}`, { isActive: false });
    const got = await eventually(async () => {
      const all = await reasons(registered.id);
      return all.at(-1)?.startsWith('offline:') ? all : undefined;
    });
    expect(got.at(-1)).toBe('offline:credentials-revoked');
    client.end(true);
  });

  it('opens an offline alert after the offline delay, and the device coming back resolves it', async () => {
    const registered = await createDevice(api, communityId, 'bin');
    const client = await rawDevice(gateway.mqttUrl, registered);
    const opened = await eventually(async () => (await alertsOf(registered.id)).find((a) => a.cause === 'offline' && a.status === 'open'));
    expect(opened).toMatchObject({ subject: registered.id, deviceId: registered.id, severity: 'critical' });
    await publish(client, deviceTopic(registered.id, 'telemetry'), { fillPercent: 10 });
    const resolved = await eventually(async () =>
      (await alertsOf(registered.id)).find((a) => a.id === opened.id && a.status === 'resolved'),
    );
    expect(resolved.resolvedBy).toBe('system');
    await client.endAsync();
  });

  it('acknowledges and resolves an alert with who did it, once each, and audits both', async () => {
    const registered = await createDevice(api, communityId, 'bin');
    const client = await rawDevice(gateway.mqttUrl, registered);
    await publish(client, deviceTopic(registered.id, 'telemetry'), { faults: ['JAM'], batteryPercent: 50 });
    const alert = await eventually(async () => (await alertsOf(registered.id)).find((a) => a.cause === 'fault:JAM'));
    // The same fault reported again opens nothing new: one alert per cause.
    await publish(client, deviceTopic(registered.id, 'telemetry'), { faults: ['JAM'] });

    const acked = await api.ok<Alert>('POST', `/api/v1/alerts/${alert.id}/acknowledge`);
    expect(acked).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'staff:bootstrap' });
    const again = await api.request('POST', `/api/v1/alerts/${alert.id}/acknowledge`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already-closed');
    const resolved = await api.ok<Alert>('POST', `/api/v1/alerts/${alert.id}/resolve`);
    expect(resolved).toMatchObject({ status: 'resolved', resolvedBy: 'staff:bootstrap' });
    expect((await alertsOf(registered.id)).filter((a) => a.cause === 'fault:JAM')).toHaveLength(1);
    expect((await api.request('POST', '/api/v1/alerts/999999999/resolve')).status).toBe(404);

    const audit = await api.ok<{ entries: { action: string; entityId: string; actor: string }[] }>('GET', '/api/v1/audit-log?limit=20');
    const audited = audit.entries.filter((e) => e.entityId === alert.id).map((e) => e.action);
    expect(audited).toEqual(['POST /api/v1/alerts/:id/resolve', 'POST /api/v1/alerts/:id/acknowledge']);
    await client.endAsync();
  });

  it('lists the bin fill alerts with the others, and a collection resolves them in the name of who recorded it', async () => {
    const registered = await createDevice(api, communityId, 'bin');
    const client = await rawDevice(gateway.mqttUrl, registered);
    await publish(client, deviceTopic(registered.id, 'telemetry'), { fillPercent: 96 });
    const open = await eventually(async () => {
      const list = (await alertsOf(registered.id)).filter((a) => a.cause.startsWith('fill-'));
      return list.length === 2 ? list : undefined;
    });
    expect(open.map((a) => [a.cause, a.severity, a.status]).sort()).toEqual([
      ['fill-full', 'critical', 'open'],
      ['fill-warn', 'warning', 'open'],
    ]);
    await api.ok('POST', `/api/v1/bins/${registered.id}/collections`, { weightGrams: 1200 });
    const resolved = await eventually(async () => {
      const list = (await alertsOf(registered.id)).filter((a) => a.cause.startsWith('fill-') && a.status === 'resolved');
      return list.length === 2 ? list : undefined;
    });
    expect(resolved.map((a) => a.resolvedBy)).toEqual(['staff:bootstrap', 'staff:bootstrap']);
    await client.endAsync();
  });

  it('posts alert openings to the webhook, retrying with backoff after failures', async () => {
    const registered = await createDevice(api, communityId, 'bin');
    const client = await rawDevice(gateway.mqttUrl, registered);
    await publish(client, deviceTopic(registered.id, 'telemetry'), { faults: ['TAMPER'] });
    const delivered = await eventually(async () =>
      hookCalls.find((c) => c.status === 200 && c.body.alert.subject === registered.id && c.body.alert.cause === 'fault:TAMPER'),
    );
    expect(delivered.body.type).toBe('alert.opened');
    // Two 503s came first (for whichever alerts were posted first) and were retried until accepted.
    expect(hookCalls.filter((c) => c.status === 503)).toHaveLength(2);
    const failedBodies = hookCalls.filter((c) => c.status === 503).map((c) => JSON.stringify(c.body));
    for (const body of failedBodies) expect(hookCalls.some((c) => c.status === 200 && JSON.stringify(c.body) === body)).toBe(true);
    await client.endAsync();
  });

  it('serves Prometheus metrics to a staff token only, with events out by outcome and latency histograms', async () => {
    const registered = await createDevice(api, communityId, 'bin');
    const { cardUid } = await createResidentWithCard(api, communityId);
    const device = await TestDevice.connectRegistered(gateway.mqttUrl, registered);
    await device.send(device.deposit(cardUid));
    // An unknown card's deposit is held (pending), with its reason.
    await device.send(device.deposit('DEADBEEF'));
    await device.close();

    expect((await fetch(`${gateway.baseUrl}/metrics`)).status).toBe(401);
    let last = '';
    const text = await eventually(async () => {
      const res = await fetch(`${gateway.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      const body = await res.text();
      last = body;
      return body.includes('jifen_event_acks_total{result="pending",reason="unknown-card"}') ? body : undefined;
    }).catch((err: Error) => {
      throw new Error(
        `${err.message}\n${last
          .split('\n')
          .filter((l) => l.startsWith('jifen_') && !l.startsWith('jifen_process'))
          .join('\n')}`,
      );
    });
    expect(text).toMatch(/jifen_event_acks_total\{result="credited",reason="none"\} [1-9]/);
    expect(text).toMatch(/jifen_ingest_batch_size_count [1-9]/);
    expect(text).toMatch(/jifen_ingest_commit_seconds_bucket\{le="\+Inf"\} [1-9]/);
    expect(text).toMatch(/jifen_ack_latency_seconds_count [1-9]/);
    expect(text).toMatch(/jifen_messages_received_total\{channel="events"\} [1-9]/);
    expect(text).toMatch(/jifen_devices\{state="online"\} \d/);
    expect(text).toMatch(/jifen_alerts_open \d/);
    expect(text).toContain('jifen_ingest_queue_depth');
  });

  it('charts telemetry from downsampled buckets and lists the fleet with live state, filtered', async () => {
    const registered = await createDevice(api, communityId, 'bin');
    const client = await rawDevice(gateway.mqttUrl, registered);
    await api.ok('PATCH', `/api/v1/fleet/${registered.id}/settings`, { site: '东门' });
    for (const fill of [10, 20, 30])
      await publish(client, deviceTopic(registered.id, 'telemetry'), { fillPercent: fill, temperatureC: 21 });
    const detail = await eventually(async () => {
      const d = await api.ok<{ telemetry: { fillPercent: number; readings: number }[] }>('GET', `/api/v1/fleet/${registered.id}`);
      return d.telemetry.reduce((n, s) => n + s.readings, 0) === 3 ? d : undefined;
    });
    const avg = detail.telemetry.reduce((n, s) => n + s.fillPercent * s.readings, 0) / 3;
    expect(avg).toBeCloseTo(20, 5);
    const fleet = await api.ok<{ devices: { id: string; site: string; state: string; telemetry: { fillPercent: number } }[] }>(
      'GET',
      `/api/v1/fleet?site=${encodeURIComponent('东门')}&kind=bin`,
    );
    expect(fleet.devices.map((d) => d.id)).toEqual([registered.id]);
    expect(fleet.devices[0]).toMatchObject({ site: '东门', state: 'online', telemetry: { fillPercent: 30 } });
    const bad = await api.request('PATCH', `/api/v1/fleet/${registered.id}/settings`, { alertRules: { offlineAfterSeconds: -1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation-failed');
    await client.endAsync();
  });
});

describe(`device health is flushed in batches, never written per message — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;

  beforeAll(async () => {
    // One flush an hour: only the shutdown flush can write anything during this test.
    gateway = await GatewayProcess.start({ env: { HEALTH_FLUSH_MS: '3600000', HEALTH_SAMPLE_SECONDS: '60' } });
    api = new ApiClient(gateway.baseUrl);
  });
  afterAll(async () => {
    await gateway?.dispose();
  });

  interface FleetDevice {
    telemetry: { fillPercent?: number } | null;
    lastSeenAt: string | null;
  }
  const deviceOf = async (id: string) => (await api.ok<{ device: FleetDevice; telemetry: unknown[] }>('GET', `/api/v1/fleet/${id}`)).device;

  it('keeps telemetry in memory until the flush: lost on a kill, written by a clean stop', async () => {
    const communityId = await createCommunity(api);
    const registered = await createDevice(api, communityId, 'bin');
    let client = await rawDevice(gateway.mqttUrl, registered);
    await publish(client, deviceTopic(registered.id, 'telemetry'), { fillPercent: 42 });
    await eventually(async () => ((await deviceOf(registered.id)).telemetry?.fillPercent === 42 ? true : undefined));
    client.end(true);

    await gateway.kill();
    await gateway.restart();
    expect(await deviceOf(registered.id)).toMatchObject({ telemetry: null, lastSeenAt: null });

    client = await rawDevice(gateway.mqttUrl, registered);
    await publish(client, deviceTopic(registered.id, 'telemetry'), { fillPercent: 43 });
    const seen = await eventually(async () => {
      const d = await deviceOf(registered.id);
      return d.telemetry?.fillPercent === 43 ? d : undefined;
    });
    client.end(true);
    const stopped = await gateway.stop();
    expect(stopped.code).toBe(0);
    await gateway.restart();
    const after = await api.ok<{ device: FleetDevice; telemetry: { fillPercent: number }[]; statusHistory: { reason: string }[] }>(
      'GET',
      `/api/v1/fleet/${registered.id}`,
    );
    expect(after.device.telemetry?.fillPercent).toBe(43);
    expect(after.device.lastSeenAt).toBe(seen.lastSeenAt);
    expect(after.telemetry.map((s) => s.fillPercent)).toEqual([43]);
    expect(after.statusHistory.length).toBeGreaterThan(0);
  });
});
