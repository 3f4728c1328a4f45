import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

/** The built bridge, whether this file runs from dist/ or (in tests) from its source. */
export const EDGE_BRIDGE_MAIN = join(repoRoot(__dirname), 'dist', 'devices', 'edge-bridge', 'src', 'main.js');

function repoRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export interface BridgeLogLine {
  msg: string;
  eventId?: string;
  cardUid?: string;
  result?: string;
  points?: number;
  code?: string;
  [key: string]: unknown;
}

/**
 * The edge bridge as a child process, as it runs on a controller: its JSON log
 * lines (stderr) and display lines (stdout) are collected for the caller.
 */
export class BridgeProcess {
  readonly logLines: BridgeLogLine[] = [];
  readonly displayLines: string[] = [];
  private child: ChildProcess | null = null;
  private listeners: ((line: BridgeLogLine) => void)[] = [];

  constructor(private readonly configPath: string) {}

  start(onDisplay?: (line: string) => void): void {
    const child = spawn(process.execPath, [EDGE_BRIDGE_MAIN, '--config', this.configPath], {
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.displayLines.push(line);
      onDisplay?.(line);
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      let parsed: BridgeLogLine;
      try {
        parsed = JSON.parse(line) as BridgeLogLine;
      } catch {
        parsed = { msg: line };
      }
      this.logLines.push(parsed);
      this.listeners.forEach((l) => l(parsed));
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Waits for a log line matching `test`, already seen or to come. */
  waitFor(test: (line: BridgeLogLine) => boolean, timeoutMs: number, what: string): Promise<BridgeLogLine> {
    const seen = this.logLines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(
          new Error(
            `edge bridge: no ${what} within ${timeoutMs} ms; last lines:\n${this.logLines
              .slice(-10)
              .map((l) => JSON.stringify(l))
              .join('\n')}`,
          ),
        );
      }, timeoutMs);
      const listener = (line: BridgeLogLine) => {
        if (!test(line)) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve(line);
      };
      this.listeners.push(listener);
    });
  }

  /** Events stored and sent, and acks, as the bridge logged them. */
  sentEvents(): BridgeLogLine[] {
    return this.logLines.filter((l) => l.msg === 'event stored and sent');
  }

  acks(): BridgeLogLine[] {
    return this.logLines.filter((l) => l.msg === 'ack');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }
}
