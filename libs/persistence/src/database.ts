import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { Pool } from 'pg';
import { lockDataDir } from './data-dir-lock';
import { parseDatabaseUrl } from './database-url';
import { PrismaClient } from './generated/prisma/client';
import { type AppliedMigrations, type MigrationConnection, applyMigrations } from './migrate';
import { DEFAULT_RETRY_POLICY, withTransactionRetry } from './transaction-retry';
import { WalSync } from './wal-sync';

export { dropSchema, parseDatabaseUrl } from './database-url';

export type DatabaseMode = 'embedded' | 'server';

export interface DatabaseOptions {
  /** PostgreSQL URL; `?schema=name` selects a schema. Absent: embedded PGlite. */
  databaseUrl?: string | undefined;
  /** Where the embedded database lives. */
  dataDir: string;
  /** pg pool size in server mode (connections per replica). Default 10. */
  poolSize?: number;
  /** Server mode: a statement running longer is cancelled (SQLSTATE 57014). Default 30 s; 0 = none. */
  statementTimeoutMs?: number;
  /** Server mode: waiting longer for a lock fails (55P03) and the transaction is retried. Default 10 s; 0 = none. */
  lockTimeoutMs?: number;
  /** Server mode: attempts of a transaction that hit a serialization failure, deadlock or lock timeout. Default 5. */
  transactionAttempts?: number;
  migrationsDir?: string;
  /** Embedded: how often VACUUM ANALYZE runs (PGlite has no autovacuum). Default 15 minutes. */
  maintenanceIntervalMs?: number;
}

export const DEFAULT_MAINTENANCE_INTERVAL_MS = 15 * 60_000;
export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

export interface TransactionOptions {
  /**
   * The transaction aggregates over ranges (reports): let the planner choose
   * sequential scans. Otherwise they are priced out (HOT_PATH_SETTINGS), since
   * the hot path's statements are key lookups.
   */
  scans?: boolean;
}

/** Runs one statement inside a transaction and returns its rows. */
export type SqlQuery = <R = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<R[]>;

export interface Database {
  readonly mode: DatabaseMode;
  readonly prisma: PrismaClient;
  /**
   * The hot path's own transactions, straight on the driver: an interactive
   * Prisma transaction costs ~3 ms of CPU against ~0.5 ms here (measured on
   * PGlite, scripts/bench). Prisma serves the admin side.
   */
  transaction<T>(fn: (query: SqlQuery) => Promise<T>, options?: TransactionOptions): Promise<T>;
  readonly migrations: AppliedMigrations;
  /** Call after a commit and before telling a device: makes the commit survive a power cut. */
  makeDurable(): Promise<void>;
  /**
   * What autovacuum does for a PostgreSQL server: fresh planner statistics (which
   * also replans the session's prepared statements) and VACUUM, which keeps
   * transaction ids from wrapping around. Runs on a timer in embedded mode;
   * nothing to do in server mode.
   */
  maintain(): Promise<void>;
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

/**
 * Set at the start of every hot-path transaction. Its statements are all key
 * lookups, and each is prepared once and then run from a cached generic plan
 * that PostgreSQL keeps until statistics change. Planned while a table is empty
 * (a fresh install, or right after VACUUM ANALYZE saw it empty), a probe per
 * event became a sequential scan per event: 1.3 s a batch at 50,000 events
 * (scripts/bench/db-batch.ts). With sequential scans priced out, the plan stays
 * an index probe whatever the table held when it was made.
 */
const HOT_PATH_SETTINGS = 'SET LOCAL enable_seqscan = off';

/**
 * PGlite plans every parameterised query anew (its extended-protocol statements
 * are unnamed): planning the hot path's statements cost more than running them
 * (measured: the batch write 1.09 ms -> 0.48 ms, the balance lock 0.47 -> 0.26 ms
 * per call). So each is PREPAREd once for the session and EXECUTEd with its JSON
 * arguments as quoted literals. Prepared statements are not transactional: a
 * rollback keeps them.
 *
 * Sent as a simple query (`exec`): PGlite's `query` runs parse, describe, bind,
 * describe, execute and sync as six separate calls into the WASM backend, `exec`
 * two. The database thread's CPU for the same batches fell by about 8 %
 * (scripts/bench/db-batch.ts, 1,500 batches of 12: 61.6 -> 56.8 CPU-seconds over
 * three alternating runs each). The simple protocol would run a second statement
 * smuggled into an argument, so the quoting below is the whole defence: JSON text
 * only, quotes doubled, and the session's standard_conforming_strings checked on
 * at open (with it off a backslash would escape the closing quote).
 */
async function preparedQuery<R>(tx: Transaction, prepared: Set<string>, sql: string, params: unknown[] = []): Promise<R[]> {
  const name = statementName(sql);
  if (!prepared.has(name)) {
    await tx.exec(`PREPARE ${name} AS ${sql}`);
    prepared.add(name);
  }
  const args = params.map((p) => {
    if (typeof p !== 'string') throw new TypeError('the embedded hot path passes JSON text parameters only');
    // standard_conforming_strings (checked at open): only quotes need doubling (JSON of events seldom has one: skip the copy)
    return p.includes("'") ? `'${p.replace(/'/g, "''")}'` : `'${p}'`;
  });
  const [result] = await tx.exec(`EXECUTE ${name}${args.length > 0 ? `(${args.join(', ')})` : ''}`);
  return (result?.rows ?? []) as R[];
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
    const conforming = await pglite.query<{ standard_conforming_strings: string }>('SHOW standard_conforming_strings');
    if (conforming.rows[0]?.standard_conforming_strings !== 'on') {
      throw new Error('the embedded database must run with standard_conforming_strings = on (the hot path quotes its arguments for it)');
    }
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
    const wal = new WalSync(join(dataDir, 'pgdata'));
    const prepared = new Set<string>(); // this session's prepared statements
    const maintain = async () => {
      await pglite.exec('VACUUM ANALYZE');
    };
    let maintaining: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      maintaining = maintain().catch((err: unknown) => {
        process.emitWarning(`embedded database maintenance (VACUUM ANALYZE) failed: ${String(err)}`);
      });
    }, options.maintenanceIntervalMs ?? DEFAULT_MAINTENANCE_INTERVAL_MS);
    timer.unref();
    return {
      mode: 'embedded',
      prisma,
      migrations,
      // PGlite runs one transaction at a time; Prisma's queries wait on the same lock.
      transaction: (fn, options) =>
        pglite.transaction(async (tx) => {
          if (!options?.scans) await tx.exec(HOT_PATH_SETTINGS);
          return fn((sql, params) => preparedQuery(tx, prepared, sql, params));
        }),
      makeDurable: async () => {
        await wal.sync();
      },
      maintain,
      ping: async () => {
        await pglite.query('SELECT 1');
      },
      close: async () => {
        clearInterval(timer);
        await maintaining;
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
    } catch (err) {
      // IF NOT EXISTS is not safe against a concurrent CREATE: two replicas starting
      // together can both miss the schema, and the slower one fails on the catalog's
      // unique index (23505) or with duplicate_schema (42P06). The schema is there.
      const code = (err as { code?: string }).code;
      if (code !== '23505' && code !== '42P06') throw err;
    } finally {
      await admin.end();
    }
  }
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const pool = new Pool({
    connectionString,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    // Set on every connection at its start: every statement runs in the run's
    // schema; a runaway statement is cut off; a lock held by a stuck replica
    // fails the waiting transaction (retried below) instead of piling up work.
    options: [schema ? `-c search_path="${schema}"` : '', `-c statement_timeout=${statementTimeoutMs}`, `-c lock_timeout=${lockTimeoutMs}`]
      .filter(Boolean)
      .join(' '),
  });
  const client = await pool.connect();
  let migrations: AppliedMigrations;
  try {
    // Replicas starting together queue on the migrations' advisory lock for as
    // long as the first one migrates: no lock or statement timeout for that.
    await client.query('SET lock_timeout = 0; SET statement_timeout = 0');
    migrations = await applyMigrations(
      { query: (sql, params) => client.query(sql, params) as never, exec: (script) => client.query(script) },
      migrationsDir,
    );
    await client.query('RESET lock_timeout; RESET statement_timeout');
  } catch (err) {
    client.release(true);
    await pool.end();
    throw err;
  }
  client.release();
  const retryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: options.transactionAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts };
  const attemptTransaction = async <T>(fn: (query: SqlQuery) => Promise<T>, options?: TransactionOptions): Promise<T> => {
    const conn = await pool.connect();
    try {
      await conn.query(options?.scans ? 'BEGIN' : `BEGIN; ${HOT_PATH_SETTINGS}`);
      // Named statements: pg prepares each once per connection, so the hot
      // path's SQL is planned once, not once per batch.
      const result = await fn(
        async (sql, params) => (await conn.query({ name: statementName(sql), text: sql, values: params ?? [] })).rows as never,
      );
      await conn.query('COMMIT');
      return result;
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  };
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, schema ? { schema } : undefined) });
  return {
    mode: 'server',
    prisma,
    migrations,
    // Every caller's body is a whole transaction that keeps its state in local
    // values (checked for each repository): running it again after a
    // serialization failure, deadlock or lock timeout is safe.
    transaction: (fn, options) => withTransactionRetry(() => attemptTransaction(fn, options), retryPolicy),
    // PostgreSQL fsyncs its WAL at COMMIT (synchronous_commit=on by default).
    makeDurable: () => Promise.resolve(),
    maintain: () => Promise.resolve(), // the server's autovacuum
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

const statementNames = new Map<string, string>();
/** The name a hot-path statement is prepared under, in both modes. */
export function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `jifen_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    statementNames.set(sql, name);
  }
  return name;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const migrationsDir = options.migrationsDir ?? defaultMigrationsDir();
  return options.databaseUrl ? openServer(options.databaseUrl, options, migrationsDir) : openEmbedded(options, migrationsDir);
}
