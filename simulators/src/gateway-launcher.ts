import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** dist/simulators/src → dist/apps/gateway/src/main.js */
export const GATEWAY_MAIN = join(__dirname, '..', '..', 'apps', 'gateway', 'src', 'main.js');

/**
 * A gateway the simulator starts itself (`--start-gateway`): embedded mode, its own
 * data directory and admin token, ephemeral ports kept across a restart so the
 * devices find it where it was. Only such a gateway can be restarted mid-run.
 */
export class LaunchedGateway {
  readonly adminToken = `sim-admin-${randomBytes(12).toString('hex')}`;
  httpPort = 0;
  mqttPort = 0;
  private child: ChildProcess | null = null;
  private tail: string[] = [];

  constructor(
    readonly dataDir = mkdtempSync(join(tmpdir(), 'jifen-sim-gateway-')),
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const child = spawn(process.execPath, [GATEWAY_MAIN], {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        HTTP_HOST: '127.0.0.1',
        MQTT_HOST: '127.0.0.1',
        HTTP_PORT: String(this.httpPort),
        MQTT_PORT: String(this.mqttPort),
        DATA_DIR: this.dataDir,
        ADMIN_TOKEN: this.adminToken,
        LOG_LEVEL: 'info',
        API_RATE_LIMIT_PER_MINUTE: '1000000',
        // Every simulated device connects from this one address (a reconnect storm included).
        MQTT_CONNECTS_PER_SECOND: '0',
        ...this.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr.on('data', (d: Buffer) => this.keep(d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the gateway was not ready in ${timeoutMs} ms:\n${this.recentOutput()}`)), timeoutMs);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the gateway exited at start (code ${code}, signal ${signal}):\n${this.recentOutput()}`));
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        this.keep(line);
        if (!line.includes('"gateway ready"')) return;
        const ready = JSON.parse(line) as { httpPort: number; mqttPort: number | null };
        this.httpPort = ready.httpPort;
        this.mqttPort = ready.mqttPort ?? 0;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve();
      });
    });
  }

  /** SIGKILL, as a power cut would, then start again on the same ports and data. */
  async crashAndRestart(): Promise<void> {
    await this.stop('SIGKILL');
    await this.start();
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  recentOutput(): string {
    return this.tail.join('\n');
  }

  private keep(text: string): void {
    this.tail.push(...text.split('\n').filter(Boolean));
    if (this.tail.length > 40) this.tail.splice(0, this.tail.length - 40);
  }
}
