/**
 * Ledger accounts are named, not stored: each entry moves points from a debit
 * account to a credit account (double entry, TigerBeetle-style transfers).
 * - resident:<uuid>     a resident's points (never negative)
 * - issuance:<uuid>     the community's issuance account: where earned points come from
 * - supermarket:<uuid>  where redeemed points go
 * - expiry:<uuid>       where expired points go
 */
export const SYSTEM_ACCOUNT_KINDS = ['issuance', 'supermarket', 'expiry'] as const;
export type SystemAccountKind = (typeof SYSTEM_ACCOUNT_KINDS)[number];

export type Account = { kind: 'resident'; residentId: string } | { kind: SystemAccountKind; communityId: string };

export const residentAccount = (residentId: string): Account => ({ kind: 'resident', residentId });
export const systemAccount = (kind: SystemAccountKind, communityId: string): Account => ({ kind, communityId });

export function accountName(account: Account): string {
  return account.kind === 'resident' ? `resident:${account.residentId}` : `${account.kind}:${account.communityId}`;
}

export function parseAccount(name: string): Account {
  const colon = name.indexOf(':');
  const kind = name.slice(0, colon);
  const id = name.slice(colon + 1);
  if (colon > 0 && id.length > 0) {
    if (kind === 'resident') return { kind, residentId: id };
    if ((SYSTEM_ACCOUNT_KINDS as readonly string[]).includes(kind)) return { kind: kind as SystemAccountKind, communityId: id };
  }
  throw new Error(`not a ledger account name: ${name}`);
}

export function residentIdOf(account: Account): string | null {
  return account.kind === 'resident' ? account.residentId : null;
}
