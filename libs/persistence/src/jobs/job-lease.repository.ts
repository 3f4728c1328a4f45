import type { Database } from '../database';

// Every time is the database's own (now()), so replicas with drifting clocks
// still agree on who holds a lease and when a job is due. Parameters are text
// (the embedded hot path passes strings only) and cast here.

/**
 * Takes the lease when it is free (expired or released) and the job is due.
 * Two replicas racing: the second's INSERT meets the first's row, waits for it
 * to commit, then sees a live lease and gets no row back.
 */
const CLAIM = `
INSERT INTO job_lease AS l (name, holder, lease_until, due_at, last_started_at, runs)
VALUES ($1::text, $2::text, now() + $3::bigint * interval '1 millisecond', now(), now(), 1)
ON CONFLICT (name) DO UPDATE
  SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until, last_started_at = EXCLUDED.last_started_at, runs = l.runs + 1
  WHERE l.lease_until <= now() AND l.due_at <= now()
RETURNING l.runs::text AS runs`;

/** Extends a lease still held by this holder. */
const RENEW = `
UPDATE job_lease SET lease_until = now() + $3::bigint * interval '1 millisecond'
WHERE name = $1::text AND holder = $2::text AND lease_until > now()
RETURNING name`;

/** Done: free the lease; the next run is due one period after this one started. */
const COMPLETE = `
UPDATE job_lease
SET lease_until = now(), last_finished_at = now(), last_error = NULL,
    due_at = last_started_at + $3::bigint * interval '1 millisecond'
WHERE name = $1::text AND holder = $2::text
RETURNING name`;

/** Failed: free the lease, keep the error, try again after the retry pause. */
const FAIL = `
UPDATE job_lease
SET lease_until = now(), last_finished_at = now(), last_error = $4::text,
    due_at = now() + $3::bigint * interval '1 millisecond'
WHERE name = $1::text AND holder = $2::text
RETURNING name`;

const LIST = `
SELECT name, holder, lease_until, due_at, last_started_at, last_finished_at, last_error, runs::text AS runs,
       lease_until > now() AS is_held
FROM job_lease ORDER BY name`;

export interface JobLeaseState {
  name: string;
  holder: string;
  /** Whether a replica holds it right now. */
  isHeld: boolean;
  leaseUntil: Date;
  dueAt: Date;
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastError: string | null;
  runs: number;
}

interface LeaseRow {
  name: string;
  holder: string;
  lease_until: Date | string;
  due_at: Date | string;
  last_started_at: Date | string | null;
  last_finished_at: Date | string | null;
  last_error: string | null;
  runs: string;
  is_held: boolean;
}

const date = (v: Date | string) => new Date(v);
const ms = (n: number) => String(Math.max(0, Math.round(n)));

/**
 * The lease rows of background jobs that must run once across replicas (issue
 * #8). One row per job; the same SQL on PGlite, where one process is the only
 * replica and always gets the lease.
 */
export class JobLeaseRepository {
  constructor(private readonly db: Database) {}

  /** True when `holder` now holds the lease for `leaseMs` and should run the job. */
  async claim(name: string, holder: string, leaseMs: number): Promise<boolean> {
    const rows = await this.db.transaction((q) => q(CLAIM, [name, holder, ms(leaseMs)]));
    return rows.length === 1;
  }

  /** False when the lease was lost (it expired and another replica took it). */
  async renew(name: string, holder: string, leaseMs: number): Promise<boolean> {
    return (await this.db.transaction((q) => q(RENEW, [name, holder, ms(leaseMs)]))).length === 1;
  }

  /** Releases after a successful run; due again `periodMs` after the run started. False if the lease was lost. */
  async complete(name: string, holder: string, periodMs: number): Promise<boolean> {
    return (await this.db.transaction((q) => q(COMPLETE, [name, holder, ms(periodMs)]))).length === 1;
  }

  /** Releases after a failed run, recording why; due again after `retryMs`. */
  async fail(name: string, holder: string, retryMs: number, error: string): Promise<boolean> {
    return (await this.db.transaction((q) => q(FAIL, [name, holder, ms(retryMs), error.slice(0, 2000)]))).length === 1;
  }

  /** Every job's lease: who ran it last, when, how often, and its last error. */
  async list(): Promise<JobLeaseState[]> {
    const rows = await this.db.transaction((q) => q<LeaseRow>(LIST), { scans: true });
    return rows.map((r) => ({
      name: r.name,
      holder: r.holder,
      isHeld: r.is_held,
      leaseUntil: date(r.lease_until),
      dueAt: date(r.due_at),
      lastStartedAt: r.last_started_at === null ? null : date(r.last_started_at),
      lastFinishedAt: r.last_finished_at === null ? null : date(r.last_finished_at),
      lastError: r.last_error,
      runs: Number(r.runs),
    }));
  }
}
