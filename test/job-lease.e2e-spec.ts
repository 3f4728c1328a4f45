import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { dropSchema } from '../libs/persistence/src/database-url';
import { isScaled, modeName, testDatabaseUrl } from './support/test-mode';

/** Background jobs that must run once across replicas (issue #8): the lease row, with real replicas. */
const HARNESS = join(__dirname, '..', 'dist', 'test', 'support', 'job-lease.harness.js');

jest.setTimeout(90_000);

interface Fact {
  pid: number;
  event: 'ready' | 'start' | 'end' | 'leases';
  at?: number;
  /** On a start: the lease row's last_started_at, the database's clock at the claim. */
  leaseStartedAt?: number | null;
  leases?: { name: string; runs: number }[];
}

class Replica {
  readonly facts: Fact[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  stderr = '';

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [HARNESS], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.facts.push(JSON.parse(line) as Fact));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  runs(): { start: number; leaseStart: number; end: number | null; pid: number }[] {
    const starts = this.facts.filter((f) => f.event === 'start');
    const ends = this.facts.filter((f) => f.event === 'end');
    return starts.map((s, i) => ({ start: s.at!, leaseStart: s.leaseStartedAt!, end: ends[i]?.at ?? null, pid: s.pid }));
  }

  async waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

const withSchema = (url: string, schema: string) => {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
};

/**
 * Never twice in a period: judged by the lease row's start of each run (the
 * database's clock at the claim, which is what the lease spaces), not by when
 * each claim's answer reached its replica, which a busy machine delays.
 */
const expectOnePerPeriod = (runs: { leaseStart: number }[], periodMs = 300) => {
  const byLease = runs.map((r) => r.leaseStart).sort((a, b) => a - b);
  expect(byLease.every((t) => Number.isFinite(t))).toBe(true);
  for (let i = 1; i < byLease.length; i++) expect(byLease[i]! - byLease[i - 1]!).toBeGreaterThanOrEqual(periodMs - 1); // ms rounding
};

describe(`a leased background job — ${modeName}`, () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c().catch(() => undefined);
  });

  const database = (): Record<string, string> => {
    if (isScaled) {
      const url = withSchema(testDatabaseUrl!, `t_${randomBytes(5).toString('hex')}`);
      cleanups.push(() => dropSchema(url));
      return { JOB_DATABASE_URL: url };
    }
    const dir = mkdtempSync(join(tmpdir(), 'jifen-lease-'));
    cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    return { JOB_DATA_DIR: dir };
  };

  it('runs once per period on the one embedded or server replica, runs never overlapping', async () => {
    const replica = new Replica({ ...database(), JOB_PERIOD_MS: '300', JOB_WORK_MS: '50', JOB_DURATION_MS: '3000' });
    expect(await replica.exited).toBe(0);
    const runs = replica.runs();
    // 3 s at one run per 300 ms: 10, give or take the first and the last.
    expect(runs.length).toBeGreaterThanOrEqual(8);
    expect(runs.length).toBeLessThanOrEqual(11);
    expectOnePerPeriod(runs);
    expect(replica.facts.find((f) => f.event === 'leases')!.leases).toEqual([
      expect.objectContaining({ name: 'test-job', runs: runs.length }),
    ]);
  });

  (isScaled ? it : it.skip)('runs once per period across two replicas sharing one PostgreSQL, not once per replica', async () => {
    const db = database();
    const env = { ...db, JOB_PERIOD_MS: '300', JOB_WORK_MS: '100', JOB_DURATION_MS: '4000' };
    const replicas = [new Replica(env), new Replica(env)];
    expect(await Promise.all(replicas.map((r) => r.exited))).toEqual([0, 0]);
    const ready = Math.max(...replicas.map((r) => r.facts.find((f) => f.event === 'ready')!.at!));
    const runs = replicas.flatMap((r) => r.runs()).sort((a, b) => a.start - b.start);
    // Where both replicas were up, every period's run is on one of them only.
    const together = runs.filter((r) => r.start >= ready);
    expect(together.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i]!.start).toBeGreaterThanOrEqual(runs[i - 1]!.end!); // never two at once
    }
    expectOnePerPeriod(runs);
    const span = runs[runs.length - 1]!.start - runs[0]!.start;
    expect(runs.length).toBeLessThanOrEqual(Math.floor(span / 300) + 1);
    // The row counted every run of both. Read it here, after both have exited:
    // a replica's own read at its stop can come before the other's last run.
    const reader = new Replica({ ...db, JOB_LIST_ONLY: '1' });
    expect(await reader.exited).toBe(0);
    expect(reader.facts.find((f) => f.event === 'leases')!.leases!.map((l) => l.runs)).toEqual([runs.length]);
  });

  (isScaled ? it : it.skip)('keeps a long run on its replica while it renews, and moves it when that replica is SIGKILLed', async () => {
    const env = { ...database(), JOB_PERIOD_MS: '300', JOB_LEASE_MS: '1500', JOB_WORK_MS: '60000', JOB_DURATION_MS: '20000' };
    const replicas = [new Replica(env), new Replica(env)];
    cleanups.push(() => Promise.resolve(replicas.forEach((r) => r.kill())));
    const anyStarted = () => replicas.some((r) => r.runs().length > 0);
    await replicas[0]!.waitFor(anyStarted, 30_000, 'a first run');
    const holder = replicas.find((r) => r.runs().length > 0)!;
    const other = replicas.find((r) => r !== holder)!;
    // Twice the lease: only renewals keep the other replica out.
    await new Promise((r) => setTimeout(r, 3000));
    expect(other.runs()).toHaveLength(0);
    const killedAt = Date.now();
    holder.kill();
    await other.waitFor(() => other.runs().length > 0, 10_000, 'the surviving replica to take the job over');
    const tookOverAfter = other.runs()[0]!.start - killedAt;
    expect(tookOverAfter).toBeLessThanOrEqual(1500 + 2000); // within the lease (and a check, on a busy machine) of the death
    other.kill();
  });
});
