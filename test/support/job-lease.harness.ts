import { JobLease, openPersistence } from '../../libs/persistence/src';
import { LeasedJob } from '../../apps/gateway/src/jobs/leased-job';
import { createLogger } from '../../apps/gateway/src/logging/logger';

/**
 * For test/job-lease.e2e-spec.ts: one "replica" of a leased background job, as
 * the gateway runs it (LeasedJob over JobLease over the job_lease row), with a
 * fast period. Several of these against one PostgreSQL are several replicas.
 * Prints one JSON line per run start and end (this process's clock: replicas
 * on one machine share it; a start also carries the lease row's last_started_at,
 * the database's clock), "ready" once the database is open.
 *
 * Environment: JOB_DATABASE_URL (PostgreSQL, ?schema=) or JOB_DATA_DIR (PGlite),
 * JOB_NAME, JOB_PERIOD_MS, JOB_LEASE_MS, JOB_WORK_MS, JOB_CHECK_MS, JOB_DURATION_MS;
 * JOB_LIST_ONLY=1 runs nothing and prints the lease rows as they stand.
 */
const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};
const num = (name: string, fallback: number) => Number(env(name, String(fallback)));
const say = (fact: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ pid: process.pid, ...fact })}\n`);

async function main(): Promise<void> {
  const databaseUrl = process.env['JOB_DATABASE_URL'];
  const p = await openPersistence(databaseUrl ? { databaseUrl, dataDir: '.', poolSize: 2 } : { dataDir: env('JOB_DATA_DIR') });
  if (process.env['JOB_LIST_ONLY'] === '1') {
    say({ event: 'leases', leases: await p.jobLeases.list() });
    return p.close();
  }
  const workMs = num('JOB_WORK_MS', 50);
  const name = env('JOB_NAME', 'test-job');
  const lease = new JobLease(p.jobLeases, {
    name,
    periodMs: num('JOB_PERIOD_MS', 300),
    leaseMs: num('JOB_LEASE_MS', 2000),
  });
  const job = new LeasedJob(
    lease,
    async () => {
      const at = Date.now();
      // The lease row's own start (the database's clock at the claim): the
      // spacing the lease promises is in that clock, not in when the claim's
      // answer reached this process.
      const row = (await p.jobLeases.list()).find((l) => l.name === name);
      say({ event: 'start', at, leaseStartedAt: row?.lastStartedAt?.getTime() ?? null });
      await new Promise((resolve) => setTimeout(resolve, workMs));
      say({ event: 'end', at: Date.now() });
      return null;
    },
    createLogger('warn'),
    { checkEveryMs: num('JOB_CHECK_MS', 25), firstCheckMs: 0 },
  );
  say({ event: 'ready', at: Date.now(), holder: lease.holder });
  job.start();
  await new Promise((resolve) => setTimeout(resolve, num('JOB_DURATION_MS', 3000)));
  await job.stop();
  say({ event: 'leases', leases: await p.jobLeases.list() });
  await p.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
