import { DomainError } from '../domain-error';
import { accountName, residentAccount, systemAccount } from './accounts';
import { GENESIS_HASH, canonicalEntry, entryHash } from './entry-hash';
import { type ChainHead, type LedgerEntryDraft, type ResidentPoints, sealEntries } from './seal-entries';

const C = '00000000-0000-4000-8000-000000000001';
const A = '00000000-0000-4000-9000-00000000000a';
const B = '00000000-0000-4000-9000-00000000000b';
const AT = new Date('2026-11-23T08:00:00.000Z');

const draft = (over: Partial<LedgerEntryDraft>): LedgerEntryDraft => ({
  communityId: C,
  kind: 'posted',
  debitAccount: accountName(systemAccount('issuance', C)),
  creditAccount: accountName(residentAccount(A)),
  amount: 5,
  source: 'manual',
  pendingEntryId: null,
  reversesEntryId: null,
  idempotencyKey: `k-${Math.random()}`,
  actor: 'staff:alice',
  reason: null,
  createdAt: AT,
  ...over,
});

function fresh(balances: Record<string, number> = { [A]: 0, [B]: 0 }) {
  const heads = new Map<string, ChainHead>([[C, { chainSeq: 0n, hash: GENESIS_HASH }]]);
  const residents = new Map<string, ResidentPoints>(Object.entries(balances).map(([id, balance]) => [id, { balance, pendingPoints: 0 }]));
  return { heads, residents };
}

describe('sealEntries', () => {
  it('chains entries: each names the previous hash, positions count up, the head moves to the last', () => {
    const { heads, residents } = fresh();
    const [first, second] = sealEntries([draft({ amount: 5 }), draft({ amount: 3 })], heads, residents);
    expect(first).toMatchObject({
      chainSeq: 1n,
      prevHash: GENESIS_HASH,
      creditResidentId: A,
      creditBalanceAfter: 5,
      debitBalanceAfter: null,
    });
    expect(second).toMatchObject({ chainSeq: 2n, prevHash: first!.hash, creditBalanceAfter: 8 });
    expect(second!.hash).toBe(entryHash(first!.hash, second!));
    expect(heads.get(C)).toEqual({ chainSeq: 2n, hash: second!.hash });
    expect(residents.get(A)).toEqual({ balance: 8, pendingPoints: 0 });
  });

  it('moves points between two residents (a gift) and records both balances after', () => {
    const { heads, residents } = fresh({ [A]: 10, [B]: 1 });
    const [gift] = sealEntries(
      [draft({ debitAccount: accountName(residentAccount(A)), creditAccount: accountName(residentAccount(B)), amount: 4, source: 'gift' })],
      heads,
      residents,
    );
    expect(gift).toMatchObject({ debitResidentId: A, creditResidentId: B, debitBalanceAfter: 6, creditBalanceAfter: 5 });
  });

  it('refuses to take a resident below zero with insufficient-points, naming balance and need', () => {
    const { heads, residents } = fresh({ [A]: 3 });
    const spend = draft({
      debitAccount: accountName(residentAccount(A)),
      creditAccount: accountName(systemAccount('supermarket', C)),
      amount: 4,
    });
    expect(() => sealEntries([spend], heads, residents)).toThrow(DomainError);
    expect(() => sealEntries([spend], heads, residents)).toThrow(/has 3 points to spend, 4 are needed/);
    expect(residents.get(A)!.balance).toBe(3);
  });

  it('keeps pending points out of the spendable balance until settled; void drops them', () => {
    const { heads, residents } = fresh({ [A]: 0 });
    sealEntries([draft({ kind: 'pending', amount: 6 }), draft({ kind: 'pending', amount: 2 })], heads, residents);
    expect(residents.get(A)).toEqual({ balance: 0, pendingPoints: 8 });
    const spend = draft({
      debitAccount: accountName(residentAccount(A)),
      creditAccount: accountName(systemAccount('supermarket', C)),
      amount: 1,
    });
    expect(() => sealEntries([spend], heads, residents)).toThrow(/8 more are pending review/);
    const [settle] = sealEntries([draft({ kind: 'settle', amount: 6, pendingEntryId: '1' })], heads, residents);
    expect(settle!.creditBalanceAfter).toBe(6);
    sealEntries([draft({ kind: 'void', amount: 2, pendingEntryId: '2' })], heads, residents);
    expect(residents.get(A)).toEqual({ balance: 6, pendingPoints: 0 });
  });

  it.each([
    ['a zero amount', { amount: 0 }],
    ['a fractional amount', { amount: 1.5 }],
    ['the same account on both sides', { debitAccount: accountName(residentAccount(A)) }],
    ['a settle that names no pending entry', { kind: 'settle' as const }],
    ['a posted entry that names a pending entry', { pendingEntryId: '7' }],
  ])('refuses %s', (_, over) => {
    const { heads, residents } = fresh();
    expect(() => sealEntries([draft(over)], heads, residents)).toThrow();
  });
});

describe('entry hashes', () => {
  const content = { ...draft({ reason: '清扫 | sweep' }), chainSeq: 1n, debitBalanceAfter: null, creditBalanceAfter: 5 };

  it('covers every field: changing any one changes the hash', () => {
    const base = entryHash(GENESIS_HASH, content);
    for (const change of [{ amount: 6 }, { reason: '清扫 | swept' }, { creditBalanceAfter: 4 }, { actor: 'staff:bob' }, { chainSeq: 2n }]) {
      expect(entryHash(GENESIS_HASH, { ...content, ...change })).not.toBe(base);
    }
    expect(entryHash('f'.repeat(64), content)).not.toBe(base);
  });

  it('frames fields by UTF-8 length so no two contents read the same', () => {
    const a = canonicalEntry({ ...content, actor: 'staff:a', reason: 'b' });
    const b = canonicalEntry({ ...content, actor: 'staff:ab', reason: null });
    expect(a).not.toBe(b);
    expect(canonicalEntry({ ...content, reason: '清扫' })).toContain('6:清扫');
  });
});
