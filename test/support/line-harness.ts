import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Where `tsc -p tsconfig.build.json` puts test/support/<name>.harness.ts. */
export const harnessScript = (name: string): string => join(__dirname, '..', '..', 'dist', 'test', 'support', `${name}.harness.js`);

/**
 * A child process that reports facts as JSON lines on stdout and takes
 * commands as lines on stdin: how the suites run what jest cannot load in
 * process on Node 20 (aedes is ESM).
 */
export class LineHarness<Fact> {
  readonly facts: Fact[] = [];
  private readonly stderr: string[] = [];

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => this.facts.push(JSON.parse(line) as Fact));
    child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
  }

  /** Starts `script` and waits for a fact `started` accepts. */
  static async start<F>(script: string, started: (fact: F) => boolean, what = 'the harness to start'): Promise<LineHarness<F>> {
    const harness = new LineHarness<F>(spawn(process.execPath, [script]));
    await harness.until(() => harness.facts.some(started), what);
    return harness;
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  async until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; facts so far: ${JSON.stringify(this.facts)}; stderr: ${this.stderr.join('')}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  stop(): void {
    this.child.kill();
  }
}
