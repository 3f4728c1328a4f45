import {
  type ChainHead,
  type LedgerEntryDraft,
  type ResidentPoints,
  type SealedLedgerEntry,
  parseAccount,
  residentIdOf,
  sealEntries,
} from '../../../domain/src';
import type { SqlQuery } from '../database';
import * as SQL from './ledger.sql';

/** A sealed entry as the SQL writers take it (jsonb_to_recordset of ENTRY_RECORD). */
export function entryRow(e: SealedLedgerEntry, deviceEventId: string | null = null) {
  return {
    community_id: e.communityId,
    chain_seq: e.chainSeq.toString(),
    kind: e.kind,
    debit_account: e.debitAccount,
    credit_account: e.creditAccount,
    debit_resident_id: e.debitResidentId,
    credit_resident_id: e.creditResidentId,
    amount: e.amount,
    debit_balance_after: e.debitBalanceAfter,
    credit_balance_after: e.creditBalanceAfter,
    source: e.source,
    device_event_id: deviceEventId,
    pending_entry_id: e.pendingEntryId,
    reverses_entry_id: e.reversesEntryId,
    idempotency_key: e.idempotencyKey,
    actor: e.actor,
    reason: e.reason,
    created_at: e.createdAt.toISOString(),
    prev_hash: e.prevHash,
    hash: e.hash,
  };
}

/** Locks the chain heads of these communities (in id order) and returns them. */
export async function lockChainHeads(query: SqlQuery, communityIds: Iterable<string>): Promise<Map<string, ChainHead>> {
  const ids = [...new Set(communityIds)].sort();
  const heads = new Map<string, ChainHead>();
  if (ids.length === 0) return heads;
  const rows = await query<{ community_id: string; chain_seq: string; hash: string }>(SQL.LOCK_CHAIN_HEADS, [JSON.stringify(ids)]);
  for (const r of rows) heads.set(r.community_id, { chainSeq: BigInt(r.chain_seq), hash: r.hash });
  return heads;
}

/** Locks these residents' rows (in id order) and returns their points and community. */
export async function lockResidents(
  query: SqlQuery,
  residentIds: Iterable<string>,
): Promise<Map<string, ResidentPoints & { communityId: string }>> {
  const ids = [...new Set(residentIds)].sort();
  const found = new Map<string, ResidentPoints & { communityId: string }>();
  if (ids.length === 0) return found;
  const rows = await query<{ id: string; community_id: string; balance: number; pending_points: number }>(SQL.LOCK_RESIDENTS, [
    JSON.stringify(ids),
  ]);
  for (const r of rows) found.set(r.id, { communityId: r.community_id, balance: r.balance, pendingPoints: r.pending_points });
  return found;
}

/** The rows that write back what sealing changed: residents' points and chain heads. */
export function writeBackRows(residents: Map<string, ResidentPoints>, touched: Set<string>, heads: Map<string, ChainHead>) {
  return {
    residents: [...touched].map((id) => ({ id, balance: residents.get(id)!.balance, pending_points: residents.get(id)!.pendingPoints })),
    heads: [...heads].map(([communityId, h]) => ({ community_id: communityId, chain_seq: h.chainSeq.toString(), hash: h.hash })),
  };
}

/** Residents an entry changes. */
export function residentsOf(entries: readonly SealedLedgerEntry[]): Set<string> {
  const ids = new Set<string>();
  for (const e of entries) {
    if (e.debitResidentId) ids.add(e.debitResidentId);
    if (e.creditResidentId) ids.add(e.creditResidentId);
  }
  return ids;
}

/**
 * Appends entries inside the caller's transaction: locks heads then residents,
 * seals (chain + balances, refusing to take anyone below zero), writes. The
 * caller has checked that none of the idempotency keys is taken.
 */
export async function appendEntries(
  query: SqlQuery,
  drafts: readonly LedgerEntryDraft[],
): Promise<{ entries: SealedLedgerEntry[]; ids: string[] }> {
  const heads = await lockChainHeads(
    query,
    drafts.map((d) => d.communityId),
  );
  const residentIds = drafts.flatMap((d) => [d.debitAccount, d.creditAccount].flatMap((a) => residentIdOf(parseAccount(a)) ?? []));
  const residents = await lockResidents(query, residentIds);
  const entries = sealEntries(drafts, heads, residents);
  const { residents: residentRows, heads: headRows } = writeBackRows(residents, residentsOf(entries), heads);
  const written = await query<{ id: string; idempotency_key: string }>(SQL.APPEND_ENTRIES, [
    JSON.stringify(entries.map((e) => entryRow(e))),
    JSON.stringify(residentRows),
    JSON.stringify(headRows),
  ]);
  const idByKey = new Map(written.map((w) => [w.idempotency_key, w.id]));
  return { entries, ids: entries.map((e) => idByKey.get(e.idempotencyKey)!) };
}
