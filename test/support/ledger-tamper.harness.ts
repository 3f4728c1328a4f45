import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Client } from 'pg';
import { parseDatabaseUrl } from '../../libs/persistence/src/database-url';

/**
 * For test/ledger-verify.e2e-spec.ts (jest cannot load PGlite's WASM on Node 20):
 * changes the amount of one ledger entry behind the gateway's back, as someone
 * with direct database access would. The append-only trigger refuses UPDATE, so
 * it is disabled for the change and enabled again.
 *
 *   node dist/test/support/ledger-tamper.harness.js <dataDir | postgresql://...?schema=s> <entryId> <newAmount>
 *
 * The gateway must be stopped (embedded: PGlite has one writer). Prints the row as changed, as JSON.
 */
const TAMPER = [
  'ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only',
  'UPDATE ledger_entry SET amount = $2::integer WHERE id = $1::bigint',
  'ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_append_only',
];
const READ = 'SELECT id::text AS id, amount, hash FROM ledger_entry WHERE id = $1::bigint';

async function main(): Promise<void> {
  const [target, entryId, amount] = process.argv.slice(2);
  if (!target || !entryId || !amount) throw new Error('usage: ledger-tamper.harness.js <dataDir | database url> <entryId> <newAmount>');
  let row: unknown;
  if (/^postgres(ql)?:/.test(target)) {
    const { connectionString, schema } = parseDatabaseUrl(target);
    const client = new Client({ connectionString });
    await client.connect();
    try {
      if (schema) await client.query(`SET search_path TO "${schema}"`);
      await client.query('BEGIN');
      await client.query(TAMPER[0]!);
      await client.query(TAMPER[1]!, [entryId, amount]);
      await client.query(TAMPER[2]!);
      await client.query('COMMIT');
      row = (await client.query(READ, [entryId])).rows[0];
    } finally {
      await client.end();
    }
  } else {
    const pg = new PGlite(join(target, 'pgdata'));
    try {
      await pg.transaction(async (tx) => {
        await tx.query(TAMPER[0]!);
        await tx.query(TAMPER[1]!, [entryId, amount]);
        await tx.query(TAMPER[2]!);
      });
      row = (await pg.query(READ, [entryId])).rows[0];
    } finally {
      await pg.close();
    }
  }
  if (!row) throw new Error(`no ledger entry ${entryId}`);
  process.stdout.write(JSON.stringify(row));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
