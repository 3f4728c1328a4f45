import mqtt from 'mqtt';
import { ApiClient, createCommunity, createDevice, eventually } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { isScaled } from './support/test-mode';

jest.setTimeout(90_000);

/** One connect attempt, however it ends: CONNACK, a refusal, or the broker closing the socket. */
function attempt(url: string, username: string, password: string): Promise<'connected' | 'refused'> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { username, password, reconnectPeriod: 0, connectTimeout: 5000 });
    const done = (outcome: 'connected' | 'refused') => {
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end(true);
      resolve(outcome);
    };
    client.once('connect', () => done('connected'));
    client.once('error', () => done('refused'));
    client.once('close', () => done('refused'));
  });
}

/** The embedded broker's per-address connect limit (the external broker has its own, deploy/). */
(isScaled ? describe.skip : describe)('a flood of connects from one address — embedded broker', () => {
  let gateway: GatewayProcess;
  let api: ApiClient;

  beforeAll(async () => {
    gateway = await GatewayProcess.start({
      env: { MQTT_CONNECTS_PER_SECOND: '1', MQTT_CONNECT_BURST: '5', AUTH_FAILURE_THRESHOLD: '3' },
    });
    api = new ApiClient(gateway.baseUrl);
  });
  afterAll(async () => gateway?.dispose());

  it('refuses connects past the burst before checking passwords, alerts on the address, and lets it in again later', async () => {
    const device = await createDevice(api, await createCommunity(api));
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) outcomes.push(await attempt(gateway.mqttUrl, device.id, device.password));
    const connected = outcomes.filter((o) => o === 'connected').length;
    // Five at once, then one a second: the right password does not get more through.
    expect(connected).toBeGreaterThanOrEqual(5);
    expect(connected).toBeLessThan(12);
    expect(outcomes.slice(0, 5)).toEqual(Array(5).fill('connected'));

    const failures = await api.ok<{ recent: { reason: string; address: string | null }[] }>('GET', '/api/v1/fleet/auth-failures');
    expect(failures.recent.filter((f) => f.reason === 'connect-flood').length).toBe(12 - connected);
    const alert = await eventually(async () => {
      const { alerts } = await api.ok<{ alerts: { cause: string; subject: string; status: string }[] }>(
        'GET',
        '/api/v1/alerts?status=open',
      );
      return alerts.find((a) => a.cause === 'auth-failures' && a.subject.startsWith('address:'));
    });
    expect(alert.subject).toMatch(/127\.0\.0\.1/);

    // Not locked out: a token comes back every second.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await attempt(gateway.mqttUrl, device.id, device.password)).toBe('connected');
  });
});
