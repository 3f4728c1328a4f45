import { JobLease, type JobLeaseStore } from './job-lease';

/** The lease row's rules (job-lease.repository.ts) over one shared clock, as two replicas would see the database. */
class FakeLeaseTable implements JobLeaseStore {
  now = 0;
  row: { holder: string; leaseUntil: number; dueAt: number; startedAt: number; runs: number; lastError: string | null } | null = null;

  claim(_name: string, holder: string, leaseMs: number): Promise<boolean> {
    const r = this.row;
    if (r && !(r.leaseUntil <= this.now && r.dueAt <= this.now)) return Promise.resolve(false);
    this.row = {
      holder,
      leaseUntil: this.now + leaseMs,
      dueAt: r?.dueAt ?? this.now,
      startedAt: this.now,
      runs: (r?.runs ?? 0) + 1,
      lastError: null,
    };
    return Promise.resolve(true);
  }
  renew(_name: string, holder: string, leaseMs: number): Promise<boolean> {
    const r = this.row;
    if (!r || r.holder !== holder || r.leaseUntil <= this.now) return Promise.resolve(false);
    r.leaseUntil = this.now + leaseMs;
    return Promise.resolve(true);
  }
  complete(_name: string, holder: string, periodMs: number): Promise<boolean> {
    const r = this.row;
    if (!r || r.holder !== holder) return Promise.resolve(false);
    Object.assign(r, { leaseUntil: this.now, dueAt: r.startedAt + periodMs, lastError: null });
    return Promise.resolve(true);
  }
  fail(_name: string, holder: string, retryMs: number, error: string): Promise<boolean> {
    const r = this.row;
    if (!r || r.holder !== holder) return Promise.resolve(false);
    Object.assign(r, { leaseUntil: this.now, dueAt: this.now + retryMs, lastError: error });
    return Promise.resolve(true);
  }
}

const options = { name: 'points-expiry', periodMs: 60_000, leaseMs: 10_000 };

describe('JobLease: a job runs once per period across replicas', () => {
  it('lets the first replica run and the second skip while the lease is held', async () => {
    const table = new FakeLeaseTable();
    const a = new JobLease(table, { ...options, holder: 'a' });
    const b = new JobLease(table, { ...options, holder: 'b' });
    let bRan: unknown = null;
    const aRun = await a.runIfDue(async () => {
      bRan = await b.runIfDue(() => Promise.resolve('b did it'));
      return 'a did it';
    });
    expect(aRun).toEqual({ ran: true, value: 'a did it', isLeaseLost: false });
    expect(bRan).toEqual({ ran: false });
  });

  it('skips on every replica until a period after the last start, then lets exactly one run', async () => {
    const table = new FakeLeaseTable();
    const replicas = ['a', 'b', 'c'].map((holder) => new JobLease(table, { ...options, holder }));
    let runs = 0;
    const work = () => Promise.resolve(++runs);
    // Each replica checks every 7 s for 10 minutes, in its own phase.
    for (let t = 0; t <= 600_000; t += 1000) {
      table.now = t;
      for (let i = 0; i < replicas.length; i++) if ((t / 1000 + i * 3) % 7 === 0) await replicas[i]!.runIfDue(work);
    }
    // One run per 60 s period, each started at most one check interval late: 9 or 10 in 600 s, never 30.
    expect(runs).toBeGreaterThanOrEqual(9);
    expect(runs).toBeLessThanOrEqual(11);
    expect(table.row!.runs).toBe(runs);
  });

  it('frees the job after the lease when its holder dies mid-run', async () => {
    const table = new FakeLeaseTable();
    // The dead replica claimed at t=0 and never renewed or completed.
    expect(await table.claim('points-expiry', 'dead', options.leaseMs)).toBe(true);
    const survivor = new JobLease(table, { ...options, holder: 'survivor' });
    table.now = options.leaseMs - 1;
    expect(await survivor.runIfDue(() => Promise.resolve(1))).toEqual({ ran: false });
    table.now = options.leaseMs;
    expect(await survivor.runIfDue(() => Promise.resolve(1))).toMatchObject({ ran: true, value: 1 });
  });

  it('records a failed run and makes it due again after the retry pause, not a whole period', async () => {
    const table = new FakeLeaseTable();
    const a = new JobLease(table, { ...options, holder: 'a', retryMs: 5000 });
    await expect(a.runIfDue(() => Promise.reject(new Error('database went away')))).rejects.toThrow('database went away');
    expect(table.row).toMatchObject({ lastError: 'database went away', leaseUntil: 0, dueAt: 5000 });
    table.now = 4999;
    expect((await a.runIfDue(() => Promise.resolve('x'))).ran).toBe(false);
    table.now = 5000;
    expect((await a.runIfDue(() => Promise.resolve('x'))).ran).toBe(true);
  });

  it('says so when the lease was lost during a run that outlived it', async () => {
    const table = new FakeLeaseTable();
    const a = new JobLease(table, { ...options, holder: 'a' });
    const b = new JobLease(table, { ...options, holder: 'b' });
    const run = await a.runIfDue(async () => {
      table.now = options.leaseMs + 1; // stalled past the lease without a renewal
      expect((await b.runIfDue(() => Promise.resolve('b'))).ran).toBe(true);
      return 'a';
    });
    expect(run).toEqual({ ran: true, value: 'a', isLeaseLost: true });
  });

  it('refuses a lease too short to renew', () => {
    expect(() => new JobLease(new FakeLeaseTable(), { ...options, leaseMs: 50 })).toThrow(RangeError);
  });
});
