import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, openDatabase } from '../../libs/persistence/src/database';
import { type Persistence, openPersistence } from '../../libs/persistence/src/persistence';

/**
 * The body of a harness script (PGlite cannot load inside jest on Node 20): a
 * fresh embedded database in a temporary directory, the facts `work` returns
 * printed as JSON on stdout, everything removed afterwards; a failure printed
 * on stderr with exit code 1.
 */
function runHarness<T extends { close(): Promise<void> }>(
  prefix: string,
  open: (dataDir: string) => Promise<T>,
  work: (opened: T) => Promise<unknown>,
): void {
  const run = async () => {
    const dataDir = mkdtempSync(join(tmpdir(), `jifen-${prefix}-`));
    const opened = await open(dataDir);
    try {
      process.stdout.write(JSON.stringify(await work(opened)));
    } finally {
      await opened.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  run().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

/** The repositories over the embedded database. */
export function runEmbeddedHarness(prefix: string, work: (p: Persistence) => Promise<unknown>): void {
  runHarness(prefix, (dataDir) => openPersistence({ dataDir }), work);
}

/** The embedded database itself: its transactions and Prisma client. */
export function runEmbeddedDatabaseHarness(prefix: string, work: (db: Database) => Promise<unknown>): void {
  runHarness(prefix, (dataDir) => openDatabase({ dataDir }), work);
}
