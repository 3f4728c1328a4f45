import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Persistence, openPersistence } from '../../libs/persistence/src/persistence';

/**
 * The body of a harness script (PGlite cannot load inside jest on Node 20): a
 * fresh embedded database in a temporary directory, the facts `work` returns
 * printed as JSON on stdout, everything removed afterwards; a failure printed
 * on stderr with exit code 1.
 */
export function runEmbeddedHarness(prefix: string, work: (p: Persistence) => Promise<unknown>): void {
  const run = async () => {
    const dataDir = mkdtempSync(join(tmpdir(), `jifen-${prefix}-`));
    const p = await openPersistence({ dataDir });
    try {
      process.stdout.write(JSON.stringify(await work(p)));
    } finally {
      await p.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  run().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
