import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type * as NodeFs from 'node:fs';
import { join } from 'node:path';
import type * as NodePath from 'node:path';
import { type MigrationConnection, applyMigrations } from './migrate';

/**
 * Migration folders that exist only in memory: dir -> entry name -> migration.sql
 * (null for a plain file such as migration_lock.toml). Any other path reads the
 * real disk, so the committed prisma/migrations can be checked too.
 */
const mockMigrationDirs = new Map<string, Record<string, string | null>>();

jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof NodeFs>('node:fs');
  const path = jest.requireActual<typeof NodePath>('node:path');
  return {
    ...actual,
    readdirSync: (dir: string, options?: unknown) => {
      const entries = mockMigrationDirs.get(dir);
      if (!entries) return (actual.readdirSync as (p: string, o?: unknown) => unknown)(dir, options);
      return Object.entries(entries).map(([name, sql]) => ({ name, isDirectory: () => sql !== null }));
    },
    readFileSync: (file: string, options?: unknown) => {
      const entries = mockMigrationDirs.get(path.dirname(path.dirname(file)));
      if (!entries) return (actual.readFileSync as (p: string, o?: unknown) => unknown)(file, options);
      const sql = entries[path.basename(path.dirname(file))];
      if (typeof sql !== 'string' || path.basename(file) !== 'migration.sql') throw new Error(`ENOENT: ${file}`);
      return sql;
    },
  };
});

const DIR = '/virtual/prisma/migrations';
const PRISMA_MIGRATE_LOCK = 72707369;

const FIRST = '20261123000000_created_residents';
const SECOND = '20261130000000_added_cards';
const THIRD = '20261201000000_added_activities';
const SQL: Record<string, string> = {
  [FIRST]: 'CREATE TABLE a (id int);',
  [SECOND]: 'CREATE TABLE second_marker (id int);',
  [THIRD]: 'CREATE TABLE third_marker (id int);',
};
/** sha256 of SQL[FIRST], as `sha256sum` prints it. */
const FIRST_CHECKSUM = '168f4af76cbece82a4185c6c57366e07883c6e4155f25ce28559018d99433b81';

interface HistoryRow {
  migration_name: string;
  checksum: string;
  /** Prisma leaves a row with finished_at null when a migration failed half-way. */
  isFinished?: boolean;
  isRolledBack?: boolean;
}

/**
 * Records every statement in order and keeps `_prisma_migrations` in memory: the
 * INSERT of an applied migration adds its row, as PostgreSQL would.
 */
class FakeConnection implements MigrationConnection {
  readonly statements: string[] = [];
  readonly lockCalls: { sql: string; params: unknown[] | undefined }[] = [];
  failScriptContaining: string | null = null;
  failHistoryRead = false;

  constructor(readonly history: HistoryRow[] = []) {}

  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> {
    this.statements.push(sql);
    if (/pg_advisory_(un)?lock/.test(sql)) this.lockCalls.push({ sql, params });
    if (/FROM "_prisma_migrations"/.test(sql)) {
      if (this.failHistoryRead) return Promise.reject(new Error('connection reset'));
      // The two filters Prisma's own history reader applies, honoured only if the SQL asks for them.
      const rows = this.history
        .filter((r) => !/finished_at IS NOT NULL/.test(sql) || r.isFinished !== false)
        .filter((r) => !/rolled_back_at IS NULL/.test(sql) || r.isRolledBack !== true)
        .map((r) => ({ migration_name: r.migration_name, checksum: r.checksum }));
      return Promise.resolve({ rows: rows as R[] });
    }
    return Promise.resolve({ rows: [] });
  }

  exec(script: string): Promise<unknown> {
    this.statements.push(script);
    if (this.failScriptContaining !== null && script.includes(this.failScriptContaining)) {
      return Promise.reject(new Error('relation "x" already exists'));
    }
    const insert = /VALUES \('[^']*', '([0-9a-f]{64})', now\(\), '((?:[^']|'')*)', 1\)/.exec(script);
    if (insert) this.history.push({ checksum: insert[1]!, migration_name: insert[2]!.replace(/''/g, "'") });
    return Promise.resolve(undefined);
  }

  /** The migration scripts run, in order (those that carry a migration's SQL). */
  get migrationScripts(): string[] {
    return this.statements.filter((s) => s.startsWith('BEGIN;'));
  }
}

function useMigrations(entries: Record<string, string | null>): void {
  mockMigrationDirs.set(DIR, entries);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected applyMigrations to fail');
}

beforeEach(() => {
  mockMigrationDirs.clear();
  // Listed out of order, with the lock file Prisma keeps beside the folders.
  useMigrations({ [THIRD]: SQL[THIRD]!, 'migration_lock.toml': null, [FIRST]: SQL[FIRST]!, [SECOND]: SQL[SECOND]! });
});

describe('applyMigrations', () => {
  describe('on a fresh database', () => {
    it('applies every migration in name order', async () => {
      const conn = new FakeConnection();
      await expect(applyMigrations(conn, DIR)).resolves.toEqual({ applied: [FIRST, SECOND, THIRD], alreadyApplied: 0 });
      expect(conn.migrationScripts.map((s) => Object.keys(SQL).find((name) => s.includes(SQL[name]!)))).toEqual([FIRST, SECOND, THIRD]);
    });

    it('creates the history table before reading it', async () => {
      const conn = new FakeConnection();
      await applyMigrations(conn, DIR);
      const create = conn.statements.findIndex((s) => s.includes('CREATE TABLE IF NOT EXISTS "_prisma_migrations"'));
      const read = conn.statements.findIndex((s) => /SELECT migration_name, checksum FROM "_prisma_migrations"/.test(s));
      expect(create).toBeGreaterThan(-1);
      expect(read).toBeGreaterThan(create);
    });

    it('runs each migration in its own transaction together with its history row', async () => {
      const conn = new FakeConnection();
      await applyMigrations(conn, DIR);
      expect(conn.migrationScripts).toHaveLength(3);
      for (const script of conn.migrationScripts) {
        expect(script).toMatch(/^BEGIN;\n/);
        expect(script).toMatch(/INSERT INTO "_prisma_migrations"[\s\S]*\nCOMMIT;$/);
      }
    });

    it('records each migration under its name with the sha256 checksum of its file', async () => {
      const conn = new FakeConnection();
      await applyMigrations(conn, DIR);
      expect(conn.history.map((r) => r.migration_name)).toEqual([FIRST, SECOND, THIRD]);
      expect(conn.history[0]).toEqual({ migration_name: FIRST, checksum: FIRST_CHECKSUM });
      expect(new Set(conn.history.map((r) => r.checksum)).size).toBe(3);
    });

    it('escapes a quote in a migration name', async () => {
      useMigrations({ "20261123000000_o'brien": 'SELECT 1;' });
      const conn = new FakeConnection();
      await applyMigrations(conn, DIR);
      expect(conn.migrationScripts[0]).toContain("'20261123000000_o''brien'");
      expect(conn.history.map((r) => r.migration_name)).toEqual(["20261123000000_o'brien"]);
    });
  });

  describe('on a database that is partly migrated', () => {
    it('applies only the pending migrations, in name order', async () => {
      const conn = new FakeConnection([{ migration_name: FIRST, checksum: FIRST_CHECKSUM }]);
      await expect(applyMigrations(conn, DIR)).resolves.toEqual({ applied: [SECOND, THIRD], alreadyApplied: 1 });
      expect(conn.migrationScripts).toHaveLength(2);
      expect(conn.migrationScripts.some((s) => s.includes(SQL[FIRST]!))).toBe(false);
    });

    it('applies nothing when run a second time', async () => {
      const conn = new FakeConnection();
      await applyMigrations(conn, DIR);
      const before = conn.migrationScripts.length;
      await expect(applyMigrations(conn, DIR)).resolves.toEqual({ applied: [], alreadyApplied: 3 });
      expect(conn.migrationScripts).toHaveLength(before);
    });

    it.each<[string, HistoryRow]>([
      ['never finished', { migration_name: FIRST, checksum: '0'.repeat(64), isFinished: false }],
      ['was rolled back', { migration_name: FIRST, checksum: '0'.repeat(64), isRolledBack: true }],
    ])('applies again a migration whose history row %s', async (_, row) => {
      const conn = new FakeConnection([row]);
      await expect(applyMigrations(conn, DIR)).resolves.toEqual({ applied: [FIRST, SECOND, THIRD], alreadyApplied: 0 });
    });

    it('refuses to start when an applied migration was edited afterwards', async () => {
      const conn = new FakeConnection([{ migration_name: FIRST, checksum: '0'.repeat(64) }]);
      const err = await failure(applyMigrations(conn, DIR));
      expect(err.message).toContain(FIRST);
      expect(err.message).toMatch(/changed after it was applied; add a new migration instead of editing it/);
      expect(conn.migrationScripts).toEqual([]);
    });
  });

  describe('the advisory lock', () => {
    const lockedThroughout = (conn: FakeConnection) => {
      expect(conn.statements[0]).toBe('SELECT pg_advisory_lock($1)');
      expect(conn.statements.at(-1)).toBe('SELECT pg_advisory_unlock($1)');
      expect(conn.lockCalls.map((c) => c.params)).toEqual([[PRISMA_MIGRATE_LOCK], [PRISMA_MIGRATE_LOCK]]);
    };

    it("is Prisma's own lock, taken before anything else and released last", async () => {
      const conn = new FakeConnection();
      await applyMigrations(conn, DIR);
      lockedThroughout(conn);
    });

    it('is released when an applied migration was edited', async () => {
      const conn = new FakeConnection([{ migration_name: SECOND, checksum: '0'.repeat(64) }]);
      await failure(applyMigrations(conn, DIR));
      lockedThroughout(conn);
    });

    it('is released when the history cannot be read', async () => {
      const conn = new FakeConnection();
      conn.failHistoryRead = true;
      await expect(applyMigrations(conn, DIR)).rejects.toThrow('connection reset');
      lockedThroughout(conn);
    });

    it('is released when a migration fails', async () => {
      const conn = new FakeConnection();
      conn.failScriptContaining = 'second_marker';
      await failure(applyMigrations(conn, DIR));
      lockedThroughout(conn);
    });
  });

  describe('a migration that fails', () => {
    it('is rolled back, named with the cause, and stops the ones after it', async () => {
      const conn = new FakeConnection();
      conn.failScriptContaining = 'second_marker';
      const err = await failure(applyMigrations(conn, DIR));
      expect(err.message).toBe(`migration ${SECOND} failed: relation "x" already exists`);
      const failedAt = conn.statements.findIndex((s) => s.includes('second_marker'));
      expect(conn.statements[failedAt + 1]).toBe('ROLLBACK');
      expect(conn.statements.some((s) => s.includes('third_marker'))).toBe(false);
      expect(conn.history.map((r) => r.migration_name)).toEqual([FIRST]);
    });
  });

  describe('the committed prisma/migrations', () => {
    const committed = join(__dirname, '..', '..', '..', 'prisma', 'migrations');

    it('applies the first migration with the sha256 checksum of its file', async () => {
      const name = '20261123000000_created_registry_ledger_and_ingest';
      const file = readFileSync(join(committed, name, 'migration.sql'));
      const conn = new FakeConnection();
      const result = await applyMigrations(conn, committed);
      expect(result.applied[0]).toBe(name);
      expect(conn.history[0]).toEqual({ migration_name: name, checksum: createHash('sha256').update(file).digest('hex') });
      expect(conn.migrationScripts[0]).toContain(file.toString('utf8'));
    });

    it('takes only folders as migrations, not migration_lock.toml', async () => {
      const result = await applyMigrations(new FakeConnection(), committed);
      expect(result.applied.every((name) => /^\d{14}_[a-z0-9_]+$/.test(name))).toBe(true);
    });
  });
});
