import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { dropSchema } from '../../libs/persistence/src/database-url';
import { isScaled, testDatabaseUrl, testMqttUrl } from './test-mode';

export const GATEWAY_MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'gateway', 'src', 'main.js');
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface GatewayProcessOptions {
  env?: Record<string, string>;
  /** Keep the data (directory or schema) of an earlier run: a restart. */
  reuse?: GatewayProcess;
  readyTimeoutMs?: number;
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built gateway like `npm start` does, on ephemeral ports. */
export class GatewayProcess {
  child!: ChildProcess;
  httpPort = 0;
  mqttPort: number | null = null;
  stdout = '';
  stderr = '';
  /** The fields of the last start's "gateway ready" log line. */
  ready: Record<string, unknown> = {};
  private exited: Promise<ExitResult> = Promise.resolve({ code: null, signal: null, stdout: '', stderr: '' });

  private constructor(
    readonly dataDir: string,
    readonly databaseUrl: string | undefined,
    readonly shareGroup: string,
    private readonly extraEnv: Record<string, string>,
  ) {}

  static async start(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
    const previous = options.reuse;
    const gw =
      previous ??
      new GatewayProcess(
        mkdtempSync(join(tmpdir(), 'jifen-test-')),
        testDatabaseUrl ? withSchema(testDatabaseUrl, `t_${randomBytes(5).toString('hex')}`) : undefined,
        `t${randomBytes(4).toString('hex')}`,
        options.env ?? {},
      );
    await gw.spawn(options.readyTimeoutMs ?? 30_000);
    return gw;
  }

  /**
   * Another replica of a scaled-mode gateway (issue #8): the same database
   * schema and shared-subscription group, its own ports and process.
   */
  static async startReplica(
    of: GatewayProcess,
    options: Pick<GatewayProcessOptions, 'env' | 'readyTimeoutMs'> = {},
  ): Promise<GatewayProcess> {
    if (!of.databaseUrl) throw new Error('replicas share a PostgreSQL database: run the suite in scaled mode');
    const gw = new GatewayProcess(mkdtempSync(join(tmpdir(), 'jifen-test-')), of.databaseUrl, of.shareGroup, {
      ...of.extraEnv,
      ...options.env,
    });
    await gw.spawn(options.readyTimeoutMs ?? 30_000);
    return gw;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** Where devices connect: the embedded broker, or the external one. */
  get mqttUrl(): string {
    return this.mqttPort !== null ? `mqtt://127.0.0.1:${this.mqttPort}` : testMqttUrl!;
  }

  env(): Record<string, string> {
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      HTTP_HOST: '127.0.0.1',
      MQTT_HOST: '127.0.0.1',
      // A restart keeps its ports, so devices find the gateway where it was.
      HTTP_PORT: String(this.httpPort),
      MQTT_PORT: String(this.mqttPort ?? 0),
      DATA_DIR: this.dataDir,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      LOG_LEVEL: 'info',
      MQTT_SHARE_GROUP: this.shareGroup,
      // Suites poll the API for seconds on end; only staff-access tests the rate limit.
      API_RATE_LIMIT_PER_MINUTE: '1000000',
      ...this.extraEnv,
    };
    if (isScaled) {
      env['DATABASE_URL'] = this.databaseUrl!;
      env['MQTT_URL'] = testMqttUrl!;
    }
    // A suite's own settings win over the mode's (e.g. its own Mosquitto for dynamic security).
    Object.assign(env, this.extraEnv);
    return env;
  }

  private async spawn(readyTimeoutMs: number): Promise<void> {
    this.stdout = '';
    this.stderr = '';
    const child = spawn(process.execPath, [GATEWAY_MAIN], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr })),
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`gateway not ready in ${readyTimeoutMs} ms\n${this.stderr}\n${this.stdout.slice(-4000)}`)),
        readyTimeoutMs,
      );
      createInterface({ input: child.stdout }).on('line', (line) => {
        this.stdout += `${line}\n`;
        if (!line.includes('"gateway ready"')) return;
        this.ready = JSON.parse(line) as Record<string, unknown>;
        this.httpPort = this.ready['httpPort'] as number;
        this.mqttPort = this.ready['mqttPort'] as number | null;
        clearTimeout(timer);
        // stderr is another pipe: let the banner written before the ready line arrive too.
        void this.bannerSeen(5000).then(resolve, resolve);
      });
      void this.exited.then((r) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited before ready (code ${r.code}, signal ${r.signal})\n${r.stderr}\n${r.stdout.slice(-4000)}`));
      });
    });
  }

  private async bannerSeen(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stderr.includes('Stop with Ctrl+C.') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** SIGKILL: no drain, no goodbye, as a power cut or OOM kill would. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.spawn(30_000);
  }

  async stop(): Promise<ExitResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** Stops the gateway and removes its data: the temp directory, or the run's schema. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
    if (this.databaseUrl) await dropSchema(this.databaseUrl);
  }
}

function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}

/** Runs the gateway expecting it to fail at start; returns how it exited. */
export function runGatewayExpectingExit(env: Record<string, string>, timeoutMs = 30_000): Promise<ExitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GATEWAY_MAIN], {
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not exit within ${timeoutMs} ms\n${stderr}\n${stdout}`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
