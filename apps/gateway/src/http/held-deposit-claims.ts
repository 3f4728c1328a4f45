import type { HeldDepositClaim, LedgerRepository } from '../../../../libs/persistence/src';

/**
 * Deposits of a card nobody held are kept as pending (`unknown-card`). Once the
 * card is bound, they may be credited to its new holder: every successful bind
 * (a replacement too, and a CSV import) calls this hook after it commits.
 */
export abstract class HeldDepositClaims {
  /** Credits what is held for `uid` to `residentId`; `actorLabel` is who bound the card (`staff:alice`). */
  abstract claimHeldDeposits(uid: string, residentId: string, actorLabel: string): Promise<HeldDepositClaim>;
}

/** Claims through the ledger: each held deposit credited once, within the community's claim window. */
export class LedgerHeldDepositClaims extends HeldDepositClaims {
  constructor(private readonly ledger: Pick<LedgerRepository, 'claimHeldDeposits'>) {
    super();
  }

  claimHeldDeposits(uid: string, residentId: string, actorLabel: string): Promise<HeldDepositClaim> {
    return this.ledger.claimHeldDeposits({ uid, residentId, actor: actorLabel });
  }
}
