import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';

/**
 * deploy/mosquitto/mosquitto.conf really starts, and does what its comments
 * claim: a QoS 1 round trip through a shared subscription, and no QoS 1 message
 * dropped for a subscriber that falls 3,000 behind, where Mosquitto's defaults
 * drop everything past 1,000. Runs a copy of the shipped file: ephemeral port,
 * temporary persistence, without the TLS listener and the dynamic-security
 * plugin (they need certificates and a credentials file).
 */
const SHIPPED = join(__dirname, '..', 'deploy', 'mosquitto', 'mosquitto.conf');

function mosquittoBinary(): string | null {
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', 'mosquitto']) {
    try {
      execFileSync(candidate, ['-h'], { stdio: 'ignore' });
      return candidate;
    } catch (err) {
      // `mosquitto -h` exits 3 after printing its usage: that still means it is installed.
      if ((err as { status?: number }).status !== undefined && (err as { code?: string }).code !== 'ENOENT') return candidate;
    }
  }
  return null;
}

const binary = mosquittoBinary();
if (!binary) {
  if (process.env['CI'] === 'true') throw new Error('mosquitto is not installed; CI needs it (apt-get install mosquitto)');
  process.stderr.write('skipped: install mosquitto (apt-get install mosquitto) to test deploy/mosquitto/mosquitto.conf\n');
}
const describeWithMosquitto = binary ? describe : describe.skip;

jest.setTimeout(60_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The shipped file, made runnable on a test machine; every other setting as shipped. */
function testCopyOf(shipped: string, port: number, dataDir: string): string {
  const out: string[] = [];
  let inTlsListener = false;
  for (const line of shipped.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === 'listener') {
      inTlsListener = value === '8883';
      if (!inTlsListener) out.push(`listener ${port} 127.0.0.1`);
      continue;
    }
    if (inTlsListener && !line.startsWith('#') && line.trim() !== '' && key !== 'log_dest' && key !== 'log_type') continue;
    if (inTlsListener && (key === 'log_dest' || key === 'log_type')) inTlsListener = false;
    if (key === 'plugin' || key === 'plugin_opt_config_file') continue;
    if (key === 'allow_anonymous') out.push('allow_anonymous true');
    else if (key === 'persistence_location') out.push(`persistence_location ${dataDir}/`);
    else if (key === 'log_dest') out.push('log_dest stderr');
    else out.push(line);
  }
  // As root Mosquitto 2 switches to the `mosquitto` user, which cannot write a root-owned temp directory.
  if (process.getuid?.() === 0) out.push('user root');
  return out.join('\n');
}

interface RunningBroker {
  url: string;
  stop(): Promise<void>;
  stderr(): string;
}

async function startMosquitto(config: string): Promise<RunningBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'jifen-mosquitto-'));
  const file = join(dir, 'mosquitto.conf');
  writeFileSync(file, config.replace(/__PORT__/g, String(port)).replace(/__DIR__/g, dir));
  const child: ChildProcess = spawn(binary!, ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `mqtt://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited at start (code ${child.exitCode}):\n${stderr}`);
    try {
      const probe = await connect(url, 'probe', true, 4);
      await probe.endAsync();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`mosquitto not listening after 10 s:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function connect(url: string, clientId: string, clean: boolean, protocolVersion: 4 | 5 = 5): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    clientId,
    clean,
    protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: 3000,
    // MQTT 5: a session outlives the connection only with an expiry interval.
    ...(!clean && protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** A subscriber with a persistent session that is away while `count` QoS 1 messages are published; how many reach it. */
async function deliveredAfterFallingBehind(url: string, count: number): Promise<number> {
  const topic = 'jifen/v1/devices/bin-1/events';
  const subscriber = await connect(url, 'slow-gateway', false);
  await subscriber.subscribeAsync(topic, { qos: 1 });
  await subscriber.endAsync();
  const publisher = await connect(url, 'bin-1', true);
  for (let i = 0; i < count; i++) await publisher.publishAsync(topic, JSON.stringify({ eventId: `e${i}` }), { qos: 1 });
  await publisher.endAsync();
  const back = mqtt.connect(url, {
    clientId: 'slow-gateway',
    clean: false,
    protocolVersion: 5,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 3600 },
  });
  let received = 0;
  back.on('message', () => received++);
  // Delivery ends when nothing more arrives for a second.
  let last = -1;
  while (received !== last) {
    last = received;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await back.endAsync();
  return received;
}

describeWithMosquitto('deploy/mosquitto/mosquitto.conf', () => {
  const shipped = readFileSync(SHIPPED, 'utf8');

  it('states the production settings: raised queues, no Nagle delay, persistence, dynamic security, a TLS listener', () => {
    const setting = (key: string) => new RegExp(`^${key}\\s+(.+)$`, 'm').exec(shipped)?.[1];
    expect(Number(setting('max_queued_messages'))).toBeGreaterThanOrEqual(100_000);
    expect(Number(setting('max_inflight_messages'))).toBeGreaterThan(20);
    expect(setting('set_tcp_nodelay')).toBe('true');
    expect(setting('persistence')).toBe('true');
    expect(setting('allow_anonymous')).toBe('false');
    expect(setting('plugin')).toMatch(/mosquitto_dynamic_security\.so$/);
    expect(shipped).toMatch(/^listener 8883$[\s\S]*^certfile .+$[\s\S]*^keyfile .+$/m);
  });

  it('starts, and carries a QoS 1 event to a replica through a shared subscription', async () => {
    const broker = await startMosquitto(testCopyOf(shipped, 0, '__DIR__').replace('listener 0 ', 'listener __PORT__ '));
    try {
      const replica = await connect(broker.url, 'gateway-a', true);
      await replica.subscribeAsync('$share/jifen/jifen/v1/devices/+/events', { qos: 1 });
      const got = new Promise<{ topic: string; payload: string; qos: number }>((resolve) =>
        replica.once('message', (topic, payload, packet) => resolve({ topic, payload: payload.toString(), qos: packet.qos })),
      );
      const device = await connect(broker.url, 'bin-7', false);
      await device.publishAsync('jifen/v1/devices/bin-7/events', '{"eventId":"e1"}', { qos: 1 });
      expect(await got).toEqual({ topic: 'jifen/v1/devices/bin-7/events', payload: '{"eventId":"e1"}', qos: 1 });
      await Promise.all([replica.endAsync(), device.endAsync()]);
    } finally {
      await broker.stop();
    }
  });

  it('keeps all 3,000 QoS 1 messages for a subscriber that fell behind, where the defaults drop all past 1,000', async () => {
    const shippedCopy = await startMosquitto(testCopyOf(shipped, 0, '__DIR__').replace('listener 0 ', 'listener __PORT__ '));
    let withShipped: number;
    try {
      withShipped = await deliveredAfterFallingBehind(shippedCopy.url, 3000);
    } finally {
      await shippedCopy.stop();
    }
    const stock = await startMosquitto(
      `listener __PORT__ 127.0.0.1\nallow_anonymous true\n${process.getuid?.() === 0 ? 'user root\n' : ''}`,
    );
    let withDefaults: number;
    try {
      withDefaults = await deliveredAfterFallingBehind(stock.url, 3000);
    } finally {
      await stock.stop();
    }
    expect(withShipped).toBe(3000);
    expect(withDefaults).toBeLessThanOrEqual(1100);
  });
});
