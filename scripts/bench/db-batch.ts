import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, type IngestItem, IngestRepository, openDatabase, repositoriesOver } from '../../libs/persistence/src';
import { positiveArg } from './cli-args';

/**
 * `node dist/scripts/bench/db-batch.js [batch] [rounds]`: the embedded database
 * alone, without MQTT. Commits small batches on fresh tables, `rounds` batches of
 * `batch` deposits, small batches again, and prints each statement's share of a
 * batch. This is how the stale prepared plans were found (small batches took 4×
 * longer after 50,000 events). Figures go to stdout, progress to stderr.
 */
const USAGE = 'usage: node dist/scripts/bench/db-batch.js [batch events, default 480] [rounds, default 100]';
const RESIDENTS = 200;
const DEVICES = 50;
const SMALL_BATCH = 3;
const SMALL_ROUNDS = 300;

/** Wraps a database so every hot-path statement and the WAL fsync are timed, keyed by the SQL's first line. */
function timedDatabase(db: Database, spent: Map<string, number>): Database {
  const add = (key: string, since: number) => spent.set(key, (spent.get(key) ?? 0) + performance.now() - since);
  return {
    ...db,
    transaction: (fn) =>
      db.transaction((query) =>
        fn(async (sql, params) => {
          const started = performance.now();
          try {
            return await query(sql, params);
          } finally {
            add(sql.trim().split('\n')[0]!.slice(0, 48), started);
          }
        }),
      ),
    makeDurable: async () => {
      const started = performance.now();
      await db.makeDurable();
      add('WAL fsync', started);
    },
  };
}

async function main(): Promise<void> {
  const batch = positiveArg(process.argv[2], 480, USAGE);
  const rounds = positiveArg(process.argv[3], 100, USAGE);
  const dir = mkdtempSync(join(tmpdir(), 'jifen-dbbench-'));
  const db = await openDatabase({ dataDir: dir });
  try {
    const registry = repositoriesOver(db, { dataDir: dir });
    // Schema experiments (drop an index, ...): `DB_BATCH_SETUP_SQL='DROP INDEX x; ...'`.
    for (const statement of (process.env['DB_BATCH_SETUP_SQL'] ?? '').split(';').filter((x) => x.trim())) {
      await db.prisma.$executeRawUnsafe(statement);
    }
    const spent = new Map<string, number>();
    const ingest = new IngestRepository(timedDatabase(db, spent));
    process.stderr.write(`setting up ${RESIDENTS} residents with cards and ${DEVICES} bins in ${dir}\n`);
    const community = await registry.communities.create({ name: 'bench', timezone: 'Asia/Shanghai' });
    const uids: string[] = [];
    for (let r = 0; r < RESIDENTS; r++) {
      const resident = await registry.residents.create({ communityId: community.id, name: `r${r}` });
      const uid = (0x10000000 + r).toString(16).toUpperCase();
      await registry.residents.bindCard(resident.id, uid);
      uids.push(uid);
    }
    const devices: string[] = [];
    for (let d = 0; d < DEVICES; d++) {
      await registry.devices.create({ id: `bin-${d}`, kind: 'bin', communityId: community.id, passwordHash: 'not-used' });
      devices.push(`bin-${d}`);
    }

    let n = 0;
    const phase = async (label: string, size: number, count: number) => {
      spent.clear();
      const times: number[] = [];
      for (let round = 0; round < count; round++) {
        const items: IngestItem[] = [];
        for (let i = 0; i < size; i++) {
          n++;
          const now = new Date();
          items.push({
            kind: 'valid',
            deviceId: devices[n % devices.length]!,
            receivedAt: now,
            event: {
              type: 'deposit',
              eventId: `e${n}`,
              seq: n,
              occurredAt: now.toISOString(),
              cardUid: uids[n % uids.length]!,
              items: [{ kind: 'alkaline', count: 2 }],
              weightGrams: 48,
            },
          });
        }
        const started = performance.now();
        await ingest.commitBatch(items);
        times.push(performance.now() - started);
        if (round % 50 === 49) process.stderr.write(`  ${label}: ${round + 1}/${count} batches\n`);
      }
      times.sort((a, b) => a - b);
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
      console.log(
        `${label}: ${count} × ${size} events, mean ${mean.toFixed(1)} ms, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms a batch → ${((size / mean) * 1000).toFixed(0)} events/s`,
      );
      for (const [statement, ms] of [...spent].sort((a, b) => b[1] - a[1])) {
        console.log(`  ${(ms / count).toFixed(2).padStart(8)} ms a batch  ${statement}`);
      }
    };
    await phase('small batches, fresh tables', SMALL_BATCH, SMALL_ROUNDS);
    await phase('large batches', batch, rounds);
    await phase(`small batches after ${n} events`, SMALL_BATCH, SMALL_ROUNDS);
    const started = performance.now();
    await db.maintain();
    console.log(`VACUUM ANALYZE (the embedded maintenance) after ${n} events: ${(performance.now() - started).toFixed(0)} ms`);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
