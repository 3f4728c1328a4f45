import { DataDirLockedError, type Persistence, openPersistence } from '../../../../libs/persistence/src';

/**
 * `npm run ledger:verify -- [--community <id>]`: recomputes every hash chain
 * and balance (LedgerRepository.verify) against the database the gateway uses
 * (DATABASE_URL, else the embedded one in DATA_DIR, default ./data).
 * Exit 0: the ledger is intact; 1: a mismatch, named; 2: could not run.
 */
const USAGE = 'usage: npm run ledger:verify -- [--community <community id>]';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PROGRESS_EVERY = 100_000;

function parseArgs(argv: string[]): { communityId?: string } {
  const args: { communityId?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--community' || arg.startsWith('--community=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (!value || !UUID.test(value)) throw new Error(`--community needs a community id (a UUID), got ${value ?? 'nothing'}\n${USAGE}`);
      args.communityId = value;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
  }
  return args;
}

async function main(): Promise<number> {
  let args: { communityId?: string };
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const databaseUrl = process.env['DATABASE_URL'] || undefined;
  const dataDir = process.env['DATA_DIR'] || './data';
  let db: Persistence;
  try {
    db = await openPersistence({ databaseUrl, dataDir, poolSize: 2, maintenanceIntervalMs: 24 * 60 * 60_000 });
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      process.stderr.write(
        `the gateway is running: call GET /api/v1/ledger/verify, or stop it first (pid ${err.holderPid} holds ${err.dataDir})\n`,
      );
      return 2;
    }
    throw err;
  }
  try {
    process.stderr.write(
      `verifying the ledger${args.communityId ? ` of community ${args.communityId}` : ''} in ${databaseUrl ? 'PostgreSQL' : dataDir}\n`,
    );
    let nextReport = PROGRESS_EVERY;
    const report = await db.ledger.verify({
      ...(args.communityId ? { communityId: args.communityId } : {}),
      onProgress: (entries) => {
        if (entries < nextReport) return;
        nextReport = (Math.floor(entries / PROGRESS_EVERY) + 1) * PROGRESS_EVERY;
        process.stderr.write(`  ${entries.toLocaleString('en-US')} entries checked\n`);
      },
    });
    const summary = `${report.entriesChecked} entries, ${report.residentsChecked} residents, ${report.communities} communities in ${report.seconds.toFixed(1)} s`;
    if (report.ok) {
      process.stdout.write(`ledger OK: ${summary}\n`);
      return 0;
    }
    const m = report.firstMismatch!;
    process.stdout.write(
      `ledger MISMATCH in community ${m.communityId}` +
        (m.chainSeq !== null ? ` at chain position ${m.chainSeq}` : '') +
        (m.entryId !== null ? `, entry ${m.entryId}` : '') +
        (m.residentId !== null ? `, resident ${m.residentId}` : '') +
        `: ${m.problem} (${summary} before it)\n`,
    );
    return 1;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ledger verify failed to run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
