import {
  DomainError,
  type ExpiryPolicy,
  type ExpiryState,
  type PointsMovement,
  accountName,
  expiryState,
  residentAccount,
  systemAccount,
} from '../../../domain/src';
import type { Database } from '../database';
import type { LedgerRepository } from './ledger.repository';

const COMMUNITY_POLICY = `SELECT id, timezone, expiry_policy FROM community WHERE id = $1::uuid`;
const POLICED_COMMUNITIES = `SELECT id FROM community WHERE expiry_policy IS NOT NULL ORDER BY id`;
const SET_POLICY = `UPDATE community SET expiry_policy = $2::jsonb WHERE id = $1::uuid RETURNING id`;
const RESIDENT_COMMUNITY = `SELECT community_id FROM resident WHERE id = $1::uuid`;
/** Only a resident with points can have points expire. $1 community, $2 after id, $3 page. */
const RESIDENTS_WITH_POINTS = `SELECT id, balance FROM resident WHERE community_id = $1::uuid AND balance > 0 AND id > $2::uuid ORDER BY id LIMIT $3::integer`;
/** What moved one resident's spendable balance, in the order it happened. */
const MOVEMENTS = `
SELECT created_at, amount, source::text AS source, credit_resident_id = $1::uuid AS is_credit
FROM ledger_entry
WHERE (credit_resident_id = $1::uuid OR debit_resident_id = $1::uuid) AND kind IN ('posted', 'settle')
ORDER BY id`;

const PAGE = 500;
const NO_RESIDENT = '00000000-0000-0000-0000-000000000000';

export interface ResidentExpiry extends ExpiryState {
  communityId: string;
  policy: ExpiryPolicy | null;
}

export interface ExpiryRun {
  communityId: string;
  residentsChecked: number;
  residentsExpired: number;
  pointsExpired: number;
}

/** Optional points expiry per community, posted as ledger entries (resident → expiry account) by a scheduled job. */
export class ExpiryRepository {
  constructor(
    private readonly db: Database,
    private readonly ledger: LedgerRepository,
  ) {}

  async setPolicy(communityId: string, policy: ExpiryPolicy | null): Promise<void> {
    const rows = await this.db.transaction((q) => q(SET_POLICY, [communityId, JSON.stringify(policy)]));
    if (rows.length === 0) throw new DomainError('not-found', `no community with id ${communityId}`);
  }

  /** The communities whose points expire: what the scheduled job walks. */
  async communitiesWithPolicy(): Promise<string[]> {
    return (await this.db.transaction((q) => q<{ id: string }>(POLICED_COMMUNITIES))).map((r) => r.id);
  }

  /** What of a resident's points has expired (not yet posted) and what expires when. */
  async residentExpiry(residentId: string, now: Date = new Date()): Promise<ResidentExpiry> {
    const [resident] = await this.db.transaction((q) => q<{ community_id: string }>(RESIDENT_COMMUNITY, [residentId]));
    if (!resident) throw new DomainError('not-found', `no resident with id ${residentId}`);
    const community = await this.community(resident.community_id);
    const communityId = resident.community_id;
    if (!community.policy) return { communityId, policy: null, due: 0, upcoming: [] };
    const { due, upcoming } = await this.stateOf(residentId, community.policy, community.timezone, now);
    return { communityId, policy: community.policy, due, upcoming };
  }

  /**
   * Posts what has expired for every resident of the community, one resident per
   * transaction. Safe to run twice or on two replicas at once: the entry's
   * idempotency key is the resident's expired total, so the same due posts once.
   */
  async run(communityId: string, now: Date = new Date()): Promise<ExpiryRun> {
    const community = await this.community(communityId);
    const result: ExpiryRun = { communityId, residentsChecked: 0, residentsExpired: 0, pointsExpired: 0 };
    if (!community.policy) return result;
    let after = NO_RESIDENT;
    for (;;) {
      const page = await this.db.transaction((q) =>
        q<{ id: string; balance: number }>(RESIDENTS_WITH_POINTS, [communityId, after, String(PAGE)]),
      );
      if (page.length === 0) break;
      for (const resident of page) {
        result.residentsChecked++;
        const { due, postedBefore } = await this.stateOf(resident.id, community.policy, community.timezone, now);
        const amount = Math.min(due, resident.balance);
        if (amount <= 0) continue;
        try {
          const posted = await this.ledger.post([
            {
              communityId,
              kind: 'posted',
              debitAccount: accountName(residentAccount(resident.id)),
              creditAccount: accountName(systemAccount('expiry', communityId)),
              amount,
              source: 'expiry',
              pendingEntryId: null,
              reversesEntryId: null,
              idempotencyKey: `expiry:${resident.id}:${postedBefore + amount}`,
              actor: 'system:expiry',
              reason: policyText(community.policy),
            },
          ]);
          if (!posted.isReplay) {
            result.residentsExpired++;
            result.pointsExpired += amount;
          }
        } catch (err) {
          // Spent meanwhile: the next run sees the new balance.
          if (!(err instanceof DomainError && err.code === 'insufficient-points')) throw err;
        }
      }
      after = page[page.length - 1]!.id;
    }
    return result;
  }

  private async community(id: string): Promise<{ timezone: string; policy: ExpiryPolicy | null }> {
    const [row] = await this.db.transaction((q) => q<{ timezone: string; expiry_policy: ExpiryPolicy | null }>(COMMUNITY_POLICY, [id]));
    if (!row) throw new DomainError('not-found', `no community with id ${id}`);
    return { timezone: row.timezone, policy: row.expiry_policy };
  }

  private async movementsOf(residentId: string): Promise<PointsMovement[]> {
    const rows = await this.db.transaction((q) =>
      q<{ created_at: Date | string; amount: number; source: string; is_credit: boolean }>(MOVEMENTS, [residentId]),
    );
    return rows.map((r) => ({
      at: new Date(r.created_at),
      amount: r.is_credit ? r.amount : -r.amount,
      isExpiry: !r.is_credit && r.source === 'expiry',
    }));
  }

  /** The resident's expiry state, and the points already posted as expired (the next entry's idempotency key counts on). */
  private async stateOf(residentId: string, policy: ExpiryPolicy, timeZone: string, now: Date) {
    const movements = await this.movementsOf(residentId);
    const postedBefore = movements.filter((m) => m.isExpiry).reduce((sum, m) => sum - m.amount, 0);
    return { ...expiryState(movements, policy, timeZone, now), postedBefore };
  }
}

function policyText(policy: ExpiryPolicy): string {
  return policy.kind === 'year-end'
    ? 'points expire at the end of the year they were earned'
    : `points expire ${policy.months} months after they were earned`;
}
