import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { defaultMigrationsDir, openDatabase } from '../../libs/persistence/src/database';
import { LedgerRepository } from '../../libs/persistence/src/ledger/ledger.repository';
import { applyMigrations } from '../../libs/persistence/src/migrate';

/**
 * For test/ledger-migration.e2e-spec.ts (PGlite cannot load inside jest on Node
 * 20). A database made by the first migration holds single-sided ledger entries
 * from the gateway's first release; the integrity-bank migration must turn them
 * into double entries and chain them exactly as the application hashes, so the
 * application's verify accepts them. Prints the verify report and the entries.
 */
const COMMUNITY = '00000000-0000-4000-8000-000000000001';
const RESIDENTS = ['00000000-0000-4000-9000-000000000001', '00000000-0000-4000-9000-000000000002'];

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'jifen-ledger-migration-'));
  try {
    const all = readdirSync(defaultMigrationsDir()).sort();
    const firstOnly = join(work, 'migrations');
    mkdirSync(firstOnly);
    cpSync(join(defaultMigrationsDir(), all[0]!), join(firstOnly, all[0]!), { recursive: true });

    const dataDir = join(work, 'data');
    mkdirSync(dataDir);
    const pg = await PGlite.create({ dataDir: join(dataDir, 'pgdata') });
    await applyMigrations({ query: (sql, params) => pg.query(sql, params), exec: (s) => pg.exec(s) }, firstOnly);
    await pg.exec(`
      INSERT INTO community (id, name, deposit_points_per_unit) VALUES ('${COMMUNITY}', '海港社区', '{}');
      INSERT INTO resident (id, community_id, name, balance) VALUES
        ('${RESIDENTS[0]}', '${COMMUNITY}', '张三', 9), ('${RESIDENTS[1]}', '${COMMUNITY}', '李四', 3);
      INSERT INTO device (id, kind, community_id, password_hash) VALUES ('bin-1', 'bin', '${COMMUNITY}', 'x');
      INSERT INTO device_event (device_id, event_id, type, payload, received_at, result, ack, points)
        VALUES ('bin-1', 'e1', 'deposit', '{}', now(), 'credited', '{}', 4),
               ('bin-1', 'e2', 'deposit', '{}', now(), 'credited', '{}', 3),
               ('bin-1', 'e3', 'deposit', '{}', now(), 'credited', '{}', 5);
      INSERT INTO ledger_entry (community_id, resident_id, amount, balance_after, source, device_event_id, idempotency_key, actor, reason, created_at)
        VALUES ('${COMMUNITY}', '${RESIDENTS[0]}', 4, 4, 'device_event', 1, 'device-event:bin-1:e1', 'device:bin-1', NULL, '2026-11-20T01:02:03.456Z'),
               ('${COMMUNITY}', '${RESIDENTS[1]}', 3, 3, 'device_event', 2, 'device-event:bin-1:e2', 'device:bin-1', '补录 | late', '2026-11-20T01:02:04.000Z'),
               ('${COMMUNITY}', '${RESIDENTS[0]}', 5, 9, 'device_event', 3, 'device-event:bin-1:e3', 'device:bin-1', NULL, '2026-11-21T09:00:00.001Z');`);
    await pg.close();

    const db = await openDatabase({ dataDir }); // applies the rest, the integrity-bank migration among them
    try {
      const report = await new LedgerRepository(db).verify();
      const entries = await db.transaction((q) =>
        q(`SELECT chain_seq::text AS chain_seq, kind::text AS kind, debit_account, credit_account, credit_resident_id,
                  credit_balance_after, amount FROM ledger_entry ORDER BY chain_seq`),
      );
      process.stdout.write(JSON.stringify({ migrationsApplied: db.migrations.applied, report, entries }));
    } finally {
      await db.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
