import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The integrity-bank migration turns the first release's single-sided ledger
 * entries into double entries and hash-chains them in SQL; the application's
 * verify recomputes the chain in TypeScript. Both must agree to the byte, or
 * every upgraded gateway would report its own ledger as tampered with.
 */
const HARNESS = join(__dirname, '..', 'dist', 'test', 'support', 'ledger-migration.harness.js');
const COMMUNITY = '00000000-0000-4000-8000-000000000001';

describe('upgrading a first-release ledger', () => {
  let result: {
    migrationsApplied: string[];
    report: { ok: boolean; entriesChecked: number; residentsChecked: number; firstMismatch: unknown };
    entries: Record<string, unknown>[];
  };

  beforeAll(async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [HARNESS], { maxBuffer: 1 << 20 });
    result = JSON.parse(stdout) as typeof result;
  }, 60_000);

  it('applies the later migrations to the old database', () => {
    expect(result.migrationsApplied.length).toBeGreaterThanOrEqual(1);
    expect(result.migrationsApplied.some((m) => m.includes('double_entry_ledger'))).toBe(true);
  });

  it('makes each old credit a double entry from the community issuance account', () => {
    expect(result.entries).toEqual([
      expect.objectContaining({
        chain_seq: '1',
        kind: 'posted',
        debit_account: `issuance:${COMMUNITY}`,
        credit_balance_after: 4,
        amount: 4,
      }),
      expect.objectContaining({ chain_seq: '2', credit_balance_after: 3, amount: 3 }),
      expect.objectContaining({ chain_seq: '3', credit_balance_after: 9, amount: 5 }),
    ]);
  });

  it('chains them exactly as the application hashes: verify accepts every entry and balance', () => {
    expect(result.report).toMatchObject({ ok: true, entriesChecked: 3, residentsChecked: 2, firstMismatch: null });
  });
});
