import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { Pool } from 'pg';
import { lockDataDir } from './data-dir-lock';
import { PrismaClient } from './generated/prisma/client';
import { type AppliedMigrations, type MigrationConnection, applyMigrations } from './migrate';
import { WalSync } from './wal-sync';

export type DatabaseMode = 'embedded' | 'server';

export interface DatabaseOptions {
  /** PostgreSQL URL; `?schema=name` selects a schema. Absent: embedded PGlite. */
  databaseUrl?: string | undefined;
  /** Where the embedded database lives. */
  dataDir: string;
  /** pg pool size in server mode. */
  poolSize?: number;
  migrationsDir?: string;
}

export interface Database {
  readonly mode: DatabaseMode;
  readonly prisma: PrismaClient;
  readonly migrations: AppliedMigrations;
  /** Call after a commit and before telling a device: makes the commit survive a power cut. */
  makeDurable(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function defaultMigrationsDir(): string {
  // Works from both src (ts, tests) and dist (compiled): walk up to the repo root.
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'prisma', 'migrations');
    if (existsSync(candidate)) return candidate;
    dir = resolve(dir, '..');
  }
  throw new Error('prisma/migrations not found above ' + __dirname);
}

/** Splits `?schema=` off a PostgreSQL URL; pg itself does not understand it. */
export function parseDatabaseUrl(url: string): { connectionString: string; schema: string | undefined } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`DATABASE_URL schema must be a lower-case SQL identifier, got ${JSON.stringify(schema)}`);
  }
  return { connectionString: parsed.toString(), schema };
}

async function openEmbedded(options: DatabaseOptions, migrationsDir: string): Promise<Database> {
  const dataDir = resolve(options.dataDir);
  const unlock = lockDataDir(dataDir);
  try {
    const pglite = await PGlite.create({ dataDir: join(dataDir, 'pgdata') });
    const conn: MigrationConnection = {
      query: (sql, params) => pglite.query(sql, params),
      exec: (script) => pglite.exec(script),
    };
    const migrations = await applyMigrations(conn, migrationsDir);
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
    const wal = new WalSync(join(dataDir, 'pgdata'));
    return {
      mode: 'embedded',
      prisma,
      migrations,
      makeDurable: () => {
        wal.sync();
        return Promise.resolve();
      },
      ping: async () => {
        await pglite.query('SELECT 1');
      },
      close: async () => {
        await prisma.$disconnect();
        await pglite.close();
        unlock();
      },
    };
  } catch (err) {
    unlock();
    throw err;
  }
}

async function openServer(url: string, options: DatabaseOptions, migrationsDir: string): Promise<Database> {
  const { connectionString, schema } = parseDatabaseUrl(url);
  if (schema) {
    const admin = new Pool({ connectionString, max: 1 });
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    } finally {
      await admin.end();
    }
  }
  const pool = new Pool({
    connectionString,
    max: options.poolSize ?? 10,
    // Every statement runs in the run's schema; a runaway statement is cut off.
    options: `${schema ? `-c search_path="${schema}" ` : ''}-c statement_timeout=30000`,
  });
  const client = await pool.connect();
  let migrations: AppliedMigrations;
  try {
    migrations = await applyMigrations(
      { query: (sql, params) => client.query(sql, params) as never, exec: (script) => client.query(script) },
      migrationsDir,
    );
  } finally {
    client.release();
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, schema ? { schema } : undefined) });
  return {
    mode: 'server',
    prisma,
    migrations,
    // PostgreSQL fsyncs its WAL at COMMIT (synchronous_commit=on by default).
    makeDurable: () => Promise.resolve(),
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const migrationsDir = options.migrationsDir ?? defaultMigrationsDir();
  return options.databaseUrl ? openServer(options.databaseUrl, options, migrationsDir) : openEmbedded(options, migrationsDir);
}
