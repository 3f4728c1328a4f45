import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

/** What is missing to run a real Mosquitto with dynamic security here, or null. */
export function missingMosquitto(): string | null {
  for (const tool of ['mosquitto', 'mosquitto_ctrl']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} (apt-get install mosquitto mosquitto-clients)`;
    }
  }
  if (!existsSync(DYNSEC_PLUGIN)) return `${DYNSEC_PLUGIN} (apt-get install mosquitto)`;
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A real Mosquitto 2 on an ephemeral port with the dynamic-security plugin and
 * a fresh configuration made by `mosquitto_ctrl dynsec init`; its admin may also
 * publish and subscribe everywhere, as the gateway's login must.
 */
export class MosquittoDynsec {
  private constructor(
    readonly port: number,
    readonly adminUsername: string,
    readonly adminPassword: string,
    private readonly dir: string,
    private readonly child: ChildProcess,
    private output: { text: string },
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.output.text;
  }

  static async start(): Promise<MosquittoDynsec> {
    const dir = mkdtempSync(join(tmpdir(), 'jifen-mosquitto-'));
    const securityFile = join(dir, 'dynamic-security.json');
    const adminUsername = 'jifen-gateway';
    const adminPassword = `gw-${Math.random().toString(36).slice(2)}-pw`;
    execFileSync('mosquitto_ctrl', ['dynsec', 'init', securityFile, adminUsername, adminPassword], { stdio: 'ignore' });
    const config = JSON.parse(readFileSync(securityFile, 'utf8')) as { roles: { rolename: string; acls: object[] }[] };
    const admin = config.roles.find((r) => r.rolename === 'admin')!;
    admin.acls.push({ acltype: 'publishClientSend', topic: '#', allow: true });
    writeFileSync(securityFile, JSON.stringify(config, null, 2));
    // Started as root, mosquitto drops to its own user, which must read (and save) the file in this private temp dir.
    chmodSync(dir, 0o777);
    chmodSync(securityFile, 0o666);
    const port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous false',
        'persistence false',
        `plugin ${DYNSEC_PLUGIN}`,
        `plugin_opt_config_file ${securityFile}`,
        'log_dest stdout',
        'log_type error',
        'log_type warning',
        'log_type notice',
        '',
      ].join('\n'),
    );
    const bin = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';
    const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { text: '' };
    child.stdout.on('data', (d: Buffer) => (output.text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output.text += d.toString()));
    await waitForPort(port, 10_000);
    return new MosquittoDynsec(port, adminUsername, adminPassword, dir, child, output);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
