import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Whether socat is installed (the serial chain needs it; CI installs it). */
export function hasSocat(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

/**
 * A pseudo-terminal pair from socat (`socat -d -d pty,raw,echo=0 pty,raw,echo=0`),
 * with stable symlinks: the edge bridge opens `hostPath` as if it were
 * /dev/ttyUSB0, the virtual peripheral opens `devicePath`. Stopping socat removes
 * both links, which is what unplugging a USB adapter looks like to the bridge.
 */
export class SocatPair {
  private child: ChildProcess | null = null;

  constructor(
    readonly hostPath: string,
    readonly devicePath: string,
  ) {}

  async start(timeoutMs = 5000): Promise<void> {
    const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.hostPath}`, `pty,raw,echo=0,link=${this.devicePath}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + timeoutMs;
    while (!(existsSync(this.hostPath) && existsSync(this.devicePath))) {
      if (child.exitCode !== null) throw new Error(`socat exited (${child.exitCode}): ${stderr}`);
      if (Date.now() > deadline) throw new Error(`socat made no pty pair in ${timeoutMs} ms: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Unplug: socat exits and both ptys vanish. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}
