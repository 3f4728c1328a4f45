import { createHash } from 'node:crypto';

/** The prev_hash of each community's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** What an entry's hash covers, in this order (the SQL backfill in the integrity-bank migration uses the same). */
export interface HashedEntryContent {
  communityId: string;
  chainSeq: bigint | number;
  kind: string;
  debitAccount: string;
  creditAccount: string;
  amount: number;
  source: string;
  pendingEntryId: string | null;
  reversesEntryId: string | null;
  idempotencyKey: string;
  actor: string;
  reason: string | null;
  createdAt: Date;
  debitBalanceAfter: number | null;
  creditBalanceAfter: number | null;
}

/** `<UTF-8 byte length>:<text>`, or `~` for null: unambiguous whatever the text holds. */
function field(value: string | null): string {
  return value === null ? '~' : `${Buffer.byteLength(value, 'utf8')}:${value}`;
}

export function canonicalEntry(e: HashedEntryContent): string {
  return [
    e.communityId,
    String(e.chainSeq),
    e.kind,
    e.debitAccount,
    e.creditAccount,
    String(e.amount),
    e.source,
    e.pendingEntryId,
    e.reversesEntryId,
    e.idempotencyKey,
    e.actor,
    e.reason,
    e.createdAt.toISOString(),
    e.debitBalanceAfter === null ? null : String(e.debitBalanceAfter),
    e.creditBalanceAfter === null ? null : String(e.creditBalanceAfter),
  ]
    .map(field)
    .join('');
}

/** sha256(prev_hash + "\n" + canonical), hex: each entry seals all before it. */
export function entryHash(prevHash: string, entry: HashedEntryContent): string {
  return createHash('sha256')
    .update(`${prevHash}\n${canonicalEntry(entry)}`, 'utf8')
    .digest('hex');
}
