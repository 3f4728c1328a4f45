import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The minimum a migration needs from a connection: PGlite and pg both fit. */
export interface MigrationConnection {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
  /** Runs a multi-statement script (simple query protocol). */
  exec(script: string): Promise<unknown>;
}

export interface AppliedMigrations {
  applied: string[];
  alreadyApplied: number;
}

/** Prisma's own advisory lock key, so `prisma migrate` and this runner exclude each other. */
const PRISMA_MIGRATE_LOCK = 72707369;

const CREATE_HISTORY = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export function listMigrations(migrationsDir: string): { name: string; sql: string; checksum: string }[] {
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(migrationsDir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Applies pending migrations from prisma/migrations in order, each in its own
 * transaction, recorded in Prisma's `_prisma_migrations` table with Prisma's
 * checksum, so the history stays readable by the Prisma CLI. This runs in process
 * at start-up because the Prisma CLI needs a native engine that cannot be
 * downloaded here (shared/ARCHITECTURE.md, "Offline facts").
 *
 * Refuses to start when an applied migration was edited afterwards: migrations
 * are append-only, like the ledger.
 */
export async function applyMigrations(conn: MigrationConnection, migrationsDir: string): Promise<AppliedMigrations> {
  const migrations = listMigrations(migrationsDir);
  await conn.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK]);
  try {
    await conn.exec(CREATE_HISTORY);
    const { rows } = await conn.query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const done = new Map(rows.map((r) => [r.migration_name, r.checksum]));
    const applied: string[] = [];
    for (const m of migrations) {
      const previous = done.get(m.name);
      if (previous !== undefined) {
        if (previous !== m.checksum) {
          throw new Error(`migration ${m.name} was changed after it was applied; add a new migration instead of editing it`);
        }
        continue;
      }
      await conn
        .exec(
          `BEGIN;\n${m.sql}\n;\nINSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
        VALUES ('${randomUUID()}', '${m.checksum}', now(), '${m.name.replace(/'/g, "''")}', 1);\nCOMMIT;`,
        )
        .catch(async (err: unknown) => {
          await conn.exec('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
        });
      applied.push(m.name);
    }
    return { applied, alreadyApplied: done.size };
  } finally {
    await conn.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK]);
  }
}
