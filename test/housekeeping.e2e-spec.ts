import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** The daily prune on a real embedded database (PGlite cannot load inside jest on Node 20). */
const HARNESS = join(__dirname, '..', 'dist', 'test', 'support', 'housekeeping.harness.js');

interface Run {
  idempotentRequests: number;
  dayTallies: number;
  monthTallies: number;
}

describe('housekeeping: Idempotency-Key answers and deposit tallies past their use', () => {
  let r: {
    acks: { result: string; points: number }[];
    nothingYet: Run;
    pruned: Run;
    again: Run;
    longestClaimWindowDays: number;
    balance: number;
    keyLeft: unknown;
  };

  beforeAll(async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [HARNESS], { maxBuffer: 1 << 20 });
    r = JSON.parse(stdout) as typeof r;
  }, 60_000);

  it('judged the three old deposits (their tallies exist to be pruned)', () => {
    expect(r.acks.map((a) => [a.result, a.points])).toEqual([
      ['credited', 2],
      ['credited', 2],
      ['credited', 2],
    ]);
  });

  it('prunes nothing before the cutoffs', () => {
    expect(r.nothingYet).toEqual({ idempotentRequests: 0, dayTallies: 0, monthTallies: 0 });
  });

  it('prunes day tallies before the day cutoff and month tallies before the month cutoff, and the answers', () => {
    // Days 2026-08-10 and 2026-10-20 go, 2026-11-20 stays; month 2026-08 goes, 2026-10 and 2026-11 stay.
    expect(r.pruned).toEqual({ idempotentRequests: 2, dayTallies: 2, monthTallies: 1 });
    expect(r.keyLeft).toBeNull();
    expect(r.again).toEqual({ idempotentRequests: 0, dayTallies: 0, monthTallies: 0 });
  });

  it('leaves the ledger alone and reads the longest claim window', () => {
    expect(r.balance).toBe(6);
    expect(r.longestClaimWindowDays).toBe(30);
  });
});
