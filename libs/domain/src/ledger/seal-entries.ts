import { DomainError } from '../domain-error';
import { parseAccount, residentIdOf } from './accounts';
import { entryHash } from './entry-hash';

export const LEDGER_KINDS = ['posted', 'pending', 'settle', 'void'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];
export const LEDGER_SOURCES = ['device_event', 'manual', 'redemption', 'gift', 'reversal', 'expiry', 'activity', 'opening'] as const;
export type LedgerSource = (typeof LEDGER_SOURCES)[number];

/** An entry to append, before the chain and the balances seal it. */
export interface LedgerEntryDraft {
  communityId: string;
  /**
   * posted: moves `amount` now. pending: shows as the resident's pending points
   * and moves nothing. settle / void: close a pending entry (settle moves the
   * amount into the balance, void drops it); both name it in pendingEntryId.
   */
  kind: LedgerKind;
  debitAccount: string;
  creditAccount: string;
  amount: number;
  source: LedgerSource;
  pendingEntryId: string | null;
  reversesEntryId: string | null;
  idempotencyKey: string;
  actor: string;
  reason: string | null;
  createdAt: Date;
}

export interface SealedLedgerEntry extends LedgerEntryDraft {
  chainSeq: bigint;
  prevHash: string;
  hash: string;
  debitResidentId: string | null;
  creditResidentId: string | null;
  debitBalanceAfter: number | null;
  creditBalanceAfter: number | null;
}

export interface ChainHead {
  chainSeq: bigint;
  hash: string;
}

/** A resident's posted balance (spendable) and pending points (shown, not spendable). */
export interface ResidentPoints {
  balance: number;
  pendingPoints: number;
}

/**
 * Applies entries in order to the chain heads and residents' points (both maps
 * are updated) and returns them sealed: chain position, hash, and each resident
 * side's balance afterwards. Throws a DomainError, having changed nothing the
 * caller keeps (it rolls back), if an entry would take a resident below zero.
 */
export function sealEntries(
  drafts: readonly LedgerEntryDraft[],
  heads: Map<string, ChainHead>,
  residents: Map<string, ResidentPoints>,
): SealedLedgerEntry[] {
  return drafts.map((draft) => sealEntry(draft, heads, residents));
}

/** sealEntries for one entry (the ingest hot path seals each event's credit as it is judged). */
export function sealEntry(
  draft: LedgerEntryDraft,
  heads: Map<string, ChainHead>,
  residents: Map<string, ResidentPoints>,
): SealedLedgerEntry {
  if (!Number.isInteger(draft.amount) || draft.amount <= 0)
    throw new Error(`ledger amount must be a positive whole number, not ${draft.amount}`);
  if (draft.debitAccount === draft.creditAccount) throw new Error(`an entry cannot move points from ${draft.debitAccount} to itself`);
  if ((draft.kind === 'settle' || draft.kind === 'void') !== (draft.pendingEntryId !== null)) {
    throw new Error('settle and void entries, and only they, name the pending entry they close');
  }
  const debitResidentId = residentIdOf(parseAccount(draft.debitAccount));
  const creditResidentId = residentIdOf(parseAccount(draft.creditAccount));
  const points = (id: string) => {
    const found = residents.get(id);
    if (!found) throw new Error(`resident ${id} was not loaded (and locked) before sealing`);
    return found;
  };

  if (draft.kind === 'posted') {
    if (debitResidentId !== null) {
      const debit = points(debitResidentId);
      if (debit.balance < draft.amount) {
        throw new DomainError(
          'insufficient-points',
          `the resident has ${debit.balance} points to spend, ${draft.amount} are needed` +
            (debit.pendingPoints > 0 ? ` (${debit.pendingPoints} more are pending review and cannot be spent yet)` : ''),
          { residentId: debitResidentId, balance: debit.balance, needed: draft.amount, pendingPoints: debit.pendingPoints },
        );
      }
      debit.balance -= draft.amount;
    }
    if (creditResidentId !== null) points(creditResidentId).balance += draft.amount;
  } else {
    if (creditResidentId === null || debitResidentId !== null) {
      throw new Error('pending points go to a resident from a system account');
    }
    const credit = points(creditResidentId);
    if (draft.kind === 'pending') credit.pendingPoints += draft.amount;
    else {
      if (credit.pendingPoints < draft.amount)
        throw new Error(`resident ${creditResidentId} has only ${credit.pendingPoints} pending points`);
      credit.pendingPoints -= draft.amount;
      if (draft.kind === 'settle') credit.balance += draft.amount;
    }
  }

  const head = heads.get(draft.communityId);
  if (!head) throw new Error(`the ledger chain head of community ${draft.communityId} was not locked before sealing`);
  const sealed: SealedLedgerEntry = {
    communityId: draft.communityId,
    kind: draft.kind,
    debitAccount: draft.debitAccount,
    creditAccount: draft.creditAccount,
    amount: draft.amount,
    source: draft.source,
    pendingEntryId: draft.pendingEntryId,
    reversesEntryId: draft.reversesEntryId,
    idempotencyKey: draft.idempotencyKey,
    actor: draft.actor,
    reason: draft.reason,
    createdAt: draft.createdAt,
    chainSeq: head.chainSeq + 1n,
    prevHash: head.hash,
    hash: '',
    debitResidentId,
    creditResidentId,
    debitBalanceAfter: debitResidentId === null ? null : points(debitResidentId).balance,
    creditBalanceAfter: creditResidentId === null ? null : points(creditResidentId).balance,
  };
  sealed.hash = entryHash(head.hash, sealed);
  head.chainSeq = sealed.chainSeq;
  head.hash = sealed.hash;
  return sealed;
}
