import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Points expiry on a real embedded database, with time moved forward by the harness. */
const HARNESS = join(__dirname, '..', 'dist', 'test', 'support', 'expiry.harness.js');

interface Run {
  residentsChecked: number;
  residentsExpired: number;
  pointsExpired: number;
}

describe('points expiry (6 months after earning; 10 earned, 4 spent)', () => {
  let r: {
    beforePolicy: Run;
    preview: { policy: unknown; due: number; upcoming: { expiresAt: string; points: number }[] };
    early: Run;
    due: Run;
    again: Run;
    balance: number;
    ledger: { amount: number; source: string; counterparty: string; actor: string }[];
    verify: { ok: boolean };
    now: number;
  };

  beforeAll(async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [HARNESS], { maxBuffer: 1 << 20 });
    r = JSON.parse(stdout) as typeof r;
  }, 60_000);

  it('expires nothing in a community without a policy', () => {
    expect(r.beforePolicy.pointsExpired).toBe(0);
  });

  it('shows the resident what expires when: the 6 unspent points, six months on', () => {
    expect(r.preview.due).toBe(0);
    expect(r.preview.upcoming).toHaveLength(1);
    expect(r.preview.upcoming[0]!.points).toBe(6);
    const months = (Date.parse(r.preview.upcoming[0]!.expiresAt) - r.now) / (30.4 * 86_400_000);
    expect(months).toBeGreaterThan(5.8);
    expect(months).toBeLessThan(6.2);
  });

  it('posts nothing before the date, the unspent 6 after it, and nothing on a second run', () => {
    expect(r.early.pointsExpired).toBe(0);
    expect(r.due).toMatchObject({ residentsExpired: 1, pointsExpired: 6 });
    expect(r.again.pointsExpired).toBe(0);
    expect(r.balance).toBe(0);
  });

  it('posts the expiry as a ledger entry to the expiry account, and the ledger still verifies', () => {
    expect(r.ledger[0]).toMatchObject({ amount: -6, source: 'expiry', actor: 'system:expiry' });
    expect(r.ledger[0]!.counterparty).toMatch(/^expiry:/);
    expect(r.verify.ok).toBe(true);
  });
});
