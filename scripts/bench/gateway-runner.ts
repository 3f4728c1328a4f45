import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { dropSchema } from '../../libs/persistence/src/database-url';
import { onCleanUp, removeTempDir, stopChild, trackChild, trackTempDir } from './cleanup';

export const GATEWAY_MAIN = join(__dirname, '..', '..', 'apps', 'gateway', 'src', 'main.js');
export const BENCH_ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;

export interface ScaledTarget {
  databaseUrl: string;
  mqttUrl: string;
}

export interface RunningGateway {
  pid: number;
  baseUrl: string;
  /** Where devices connect: the embedded broker or the external one. */
  mqttUrl: string;
  /** 4 for the embedded aedes, 5 for an external broker. */
  protocolVersion: 4 | 5;
  /** The last lines the gateway wrote, for error messages. */
  recentOutput(): string;
  stop(): Promise<void>;
}

/**
 * Starts the built gateway like `npm start`: embedded (fresh DATA_DIR, aedes on
 * an ephemeral port), or scaled against `scaled` (a fresh `bench_*` schema,
 * dropped again on clean-up, and the external broker).
 */
export async function startGateway(
  scaled: ScaledTarget | null,
  /** Runs on the gateway's database (directory or schema) before the gateway opens it. */
  prepare?: (target: { dataDir: string; databaseUrl?: string }) => Promise<void>,
): Promise<RunningGateway> {
  const dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'jifen-bench-')));
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: '0',
    DATA_DIR: dataDir,
    ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    // info, for the "gateway ready" line; the ingest path logs nothing per event at info.
    LOG_LEVEL: 'info',
    // The population is made through the API, hundreds of calls in seconds.
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    // 10,000 devices connect from this one address: the per-address connect limit is for the field.
    MQTT_CONNECTS_PER_SECOND: '0',
  };
  // Ingest tuning passes through, so settings can be compared run against run.
  for (const name of [
    'INGEST_MAX_BATCH',
    'INGEST_MAX_WAIT_MS',
    'INGEST_MAX_QUEUE',
    'INGEST_CONCURRENCY',
    'MQTT_MAX_UNCONFIRMED_PUBLISHES',
  ]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // To profile the gateway under load: BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (or "--trace-gc" with BENCH_GATEWAY_OUTPUT).
  const nodeArgs = (process.env['BENCH_GATEWAY_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
  let schemaDrop: (() => Promise<void>) | null = null;
  if (scaled) {
    const schema = `bench_${randomBytes(5).toString('hex')}`;
    const url = new URL(scaled.databaseUrl);
    url.searchParams.set('schema', schema);
    const databaseUrl = url.toString();
    env['DATABASE_URL'] = databaseUrl;
    env['MQTT_URL'] = scaled.mqttUrl;
    env['MQTT_SHARE_GROUP'] = `bench${randomBytes(4).toString('hex')}`;
    let dropped: Promise<void> | null = null;
    schemaDrop = () => (dropped ??= dropSchema(databaseUrl));
    onCleanUp(schemaDrop);
  }

  if (prepare) await prepare({ dataDir, ...(env['DATABASE_URL'] ? { databaseUrl: env['DATABASE_URL'] } : {}) });
  const child = trackChild(spawn(process.execPath, [...nodeArgs, GATEWAY_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  const recent: string[] = [];
  const remember = (line: string) => {
    recent.push(line);
    if (recent.length > 40) recent.shift();
  };
  createInterface({ input: child.stderr! }).on('line', remember);
  const stdout = createInterface({ input: child.stdout! });
  // The gateway's whole output (logs, --trace-gc lines) to a file: BENCH_GATEWAY_OUTPUT=/tmp/gateway.log.
  const outputFile = process.env['BENCH_GATEWAY_OUTPUT'];
  if (outputFile) {
    const output = createWriteStream(outputFile, { flags: 'a' });
    child.stdout!.pipe(output);
    child.stderr!.pipe(output);
  }
  const ready = await new Promise<{ httpPort: number; mqttPort: number | null }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway not ready in 60 s\n${recent.join('\n')}`)), 60_000);
    // After "ready" this rejects nothing: a settled promise stays settled.
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited before ready (code ${code}, signal ${signal})\n${recent.join('\n')}`));
    });
    // Keep reading stdout for the whole run: a full pipe would stall the gateway.
    stdout.on('line', (line) => {
      remember(line);
      if (!line.includes('"gateway ready"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { httpPort: number; mqttPort: number | null });
    });
  });

  return {
    pid: child.pid!,
    baseUrl: `http://127.0.0.1:${ready.httpPort}`,
    mqttUrl: ready.mqttPort !== null ? `mqtt://127.0.0.1:${ready.mqttPort}` : scaled!.mqttUrl,
    protocolVersion: ready.mqttPort !== null ? 4 : 5,
    recentOutput: () => recent.join('\n'),
    stop: async () => {
      await stopChild(child, 15_000);
      removeTempDir(dataDir);
      if (schemaDrop) await schemaDrop();
    },
  };
}
