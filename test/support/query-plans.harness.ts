import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, openDatabase, statementName } from '../../libs/persistence/src/database';
import * as SQL from '../../libs/persistence/src/ingest/ingest.sql';

/**
 * For test/query-plans.e2e-spec.ts (PGlite loads its WASM through a dynamic
 * import, which jest cannot run on Node 20). The worst case for the embedded
 * database's prepared statements: the maintenance's VACUUM ANALYZE records the
 * tables as empty, the hot path runs its lookups past PostgreSQL's five custom
 * plans so a generic plan is cached, then the tables fill up. Prints, as JSON,
 * each lookup's plan and rows, the batch write's plan, and the planner's row estimate of device_event
 * before and after the maintenance timer ran.
 */
const COMMUNITY = '00000000-0000-4000-8000-000000000001';
const DEVICE = 'bin-plan';
const TABLE_ROWS = 30_000;
const MAINTENANCE_INTERVAL_MS = 300;

const LOOKUPS = {
  devices: { sql: SQL.SELECT_DEVICES, empty: ['bin-none'], probe: ['bin-7', DEVICE, 'bin-unknown'] },
  storedAcks: {
    sql: SQL.SELECT_STORED_ACKS,
    empty: [{ device_id: DEVICE, event_id: 'none' }],
    probe: [
      { device_id: DEVICE, event_id: 'e17' },
      { device_id: DEVICE, event_id: 'new' },
    ],
  },
  cardHolders: { sql: SQL.LOCK_CARD_HOLDERS, empty: ['04A1B2C3'], probe: ['0000002A', '00000007'] },
  tallies: {
    sql: SQL.SELECT_TALLIES,
    empty: [{ resident_id: '00000000-0000-4000-a000-000000000001', period: 'day', period_start: '2026-01-01' }],
    probe: [
      { resident_id: '00000000-0000-4000-a000-000000000007', period: 'day', period_start: '2026-01-03' },
      { resident_id: '00000000-0000-4000-a000-000000000007', period: 'month', period_start: '2026-01-01' },
      { resident_id: '00000000-0000-4000-a000-000000000042', period: 'day', period_start: '2025-12-31' },
    ],
  },
} as const;

/** WRITE_BATCH's five arguments: no events or entries, one resident's points, the chain head, one tally. */
const WRITE_PROBE = [
  [],
  [],
  [{ id: '00000000-0000-4000-a000-000000000007', balance: 5, pending_points: 0 }],
  [{ community_id: COMMUNITY, chain_seq: '1', hash: '00' }],
  [{ resident_id: '00000000-0000-4000-a000-000000000007', period: 'day', period_start: '2026-01-03', points: 9, batteries: 3 }],
];

const quoted = (json: unknown) => `'${JSON.stringify(json).replace(/'/g, "''")}'`;

async function estimatedEvents(db: Database): Promise<number> {
  const [row] = await db.transaction((q) =>
    q<{ n: number }>(`SELECT reltuples::integer AS n FROM pg_class WHERE relname = 'device_event'`),
  );
  return row!.n;
}

async function withDatabase<T>(maintenanceIntervalMs: number | undefined, fn: (db: Database) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jifen-plans-'));
  const db = await openDatabase({ dataDir, maintenanceIntervalMs });
  try {
    await db.transaction(async (q) => {
      await q(`INSERT INTO community (id, name, deposit_points_per_unit) VALUES ('${COMMUNITY}', 'c', '{}')`);
      await q(`INSERT INTO device (id, kind, community_id, password_hash) VALUES ('${DEVICE}', 'bin', '${COMMUNITY}', 'x')`);
      return [];
    });
    return await fn(db);
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const fillEvents = (rows: number) => `
  INSERT INTO device_event (device_id, event_id, type, payload, received_at, result, ack)
  SELECT '${DEVICE}', 'e' || i, 'deposit', '{}', now(), 'credited', '{"eventId":"e' || i || '"}' FROM generate_series(1, ${rows}) i`;

/**
 * The generic plan the hot path cached for `sql`, for these arguments: EXPLAIN
 * EXECUTE of the statement it prepared (its own query function would try to
 * PREPARE an EXPLAIN).
 */
async function cachedPlan(db: Database, sql: string, args: readonly unknown[]): Promise<string> {
  const explained = await db.prisma.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(
    `EXPLAIN EXECUTE ${statementName(sql)}(${args.map(quoted).join(', ')})`,
  );
  return explained.map((r) => r['QUERY PLAN']).join('\n');
}

/** Plans and rows of the hot path's lookups, prepared on empty tables and used on full ones. */
async function probePlans(db: Database): Promise<Record<string, { plan: string; rows: unknown[] }>> {
  await db.maintain(); // statistics now say: no events, no residents, no cards
  for (let i = 0; i < 8; i++) {
    for (const lookup of Object.values(LOOKUPS)) await db.transaction((q) => q(lookup.sql, [JSON.stringify(lookup.empty)]));
    await db.transaction((q) =>
      q(
        SQL.WRITE_BATCH,
        WRITE_PROBE.map(() => '[]'),
      ),
    );
  }
  await db.transaction(async (q) => {
    await q(fillEvents(TABLE_ROWS));
    await q(`INSERT INTO resident (id, community_id, name)
             SELECT ('00000000-0000-4000-a000-' || lpad(i::text, 12, '0'))::uuid, '${COMMUNITY}', 'r' || i
             FROM generate_series(1, ${TABLE_ROWS}) i`);
    await q(`INSERT INTO card (uid, resident_id)
             SELECT upper(lpad(to_hex(i), 8, '0')), ('00000000-0000-4000-a000-' || lpad(i::text, 12, '0'))::uuid
             FROM generate_series(1, ${TABLE_ROWS}) i`);
    await q(`INSERT INTO device (id, kind, community_id, password_hash)
             SELECT 'bin-' || i, 'bin', '${COMMUNITY}', 'x' FROM generate_series(1, ${TABLE_ROWS}) i`);
    // Ten days of tallies for a thousand residents, and their month.
    await q(`INSERT INTO deposit_tally (resident_id, period, period_start, points, batteries)
             SELECT ('00000000-0000-4000-a000-' || lpad(r::text, 12, '0'))::uuid, 'day', date '2026-01-01' + d, r, d
             FROM generate_series(1, 1000) r, generate_series(0, 9) d
             UNION ALL
             SELECT ('00000000-0000-4000-a000-' || lpad(r::text, 12, '0'))::uuid, 'month', date '2026-01-01', r, 10
             FROM generate_series(1, 1000) r`);
    return [];
  });
  const probes: Record<string, { plan: string; rows: unknown[] }> = {};
  // The batch write's updates of residents' points and of the chain head: planned
  // with nothing to update, explained with one resident and one tally.
  probes['writeBatch'] = { plan: await cachedPlan(db, SQL.WRITE_BATCH, WRITE_PROBE), rows: [] };
  for (const [name, lookup] of Object.entries(LOOKUPS)) {
    probes[name] = {
      plan: await cachedPlan(db, lookup.sql, [lookup.probe]),
      rows: await db.transaction((q) => q(lookup.sql, [JSON.stringify(lookup.probe)])),
    };
  }
  return probes;
}

/** The planner's estimate of device_event's rows right after a fill, and once the maintenance timer ran. */
async function probeMaintenance(db: Database) {
  await db.transaction((q) => q(fillEvents(2000)));
  const estimateBeforeTimer = await estimatedEvents(db);
  await new Promise((resolve) => setTimeout(resolve, MAINTENANCE_INTERVAL_MS * 4));
  return { estimateBeforeTimer, estimateAfterTimer: await estimatedEvents(db), tableRows: 2000 };
}

async function main(): Promise<void> {
  const probes = await withDatabase(undefined, probePlans);
  const maintenance = await withDatabase(MAINTENANCE_INTERVAL_MS, probeMaintenance);
  process.stdout.write(JSON.stringify({ ...probes, maintenance }));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
