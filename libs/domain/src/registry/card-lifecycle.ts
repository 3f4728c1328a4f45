/**
 * What a card change may do, given the card as stored (issue #3). One uid
 * belongs to one resident at a time; `lost` and `replaced` cards stay with
 * their holder (blocked) until they are unbound, which frees the uid.
 */
export const CARD_STATUSES = ['active', 'lost', 'replaced', 'unbound'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

export interface StoredCard {
  uid: string;
  /** The holder, or the last holder of an unbound card. */
  residentId: string;
  status: CardStatus;
  replacedByUid: string | null;
}

export type CardRefusal =
  /** Held (active, lost or replaced) by someone else. */
  | { code: 'card-already-bound'; holderId: string; status: CardStatus }
  /** The change does not apply to a card in this status. */
  | { code: 'card-not-active'; status: CardStatus };

export type CardDecision<Change extends string> = { kind: Change } | { kind: 'unchanged' } | ({ kind: 'refused' } & CardRefusal);

/**
 * create: a uid never seen; rebind: an unbound card to anyone, or a lost card
 * found again by its own holder; unchanged: already the holder's active card.
 */
export function decideBind(card: StoredCard | null, residentId: string): CardDecision<'create' | 'rebind'> {
  if (!card) return { kind: 'create' };
  if (card.status === 'unbound') return { kind: 'rebind' };
  if (card.residentId !== residentId)
    return { kind: 'refused', code: 'card-already-bound', holderId: card.residentId, status: card.status };
  switch (card.status) {
    case 'active':
      return { kind: 'unchanged' };
    case 'lost':
      return { kind: 'rebind' };
    case 'replaced':
      return { kind: 'refused', code: 'card-not-active', status: card.status };
  }
}

/** Only an active card can be reported lost; reporting it twice changes nothing. */
export function decideReportLost(card: StoredCard): CardDecision<'report-lost'> {
  switch (card.status) {
    case 'active':
      return { kind: 'report-lost' };
    case 'lost':
      return { kind: 'unchanged' };
    case 'replaced':
    case 'unbound':
      return { kind: 'refused', code: 'card-not-active', status: card.status };
  }
}

/**
 * An active or lost card is replaced by a free uid, bound to the same holder.
 * Repeating the same replacement changes nothing.
 */
export function decideReplace(old: StoredCard, replacement: StoredCard | null): CardDecision<'replace'> {
  if (old.status === 'replaced' && old.replacedByUid === (replacement?.uid ?? null) && replacement?.residentId === old.residentId) {
    return { kind: 'unchanged' };
  }
  if (old.status !== 'active' && old.status !== 'lost') return { kind: 'refused', code: 'card-not-active', status: old.status };
  if (replacement && replacement.uid === old.uid) return { kind: 'refused', code: 'card-not-active', status: old.status };
  // The new card must be free: never seen, or unbound.
  if (replacement && replacement.status !== 'unbound') {
    return { kind: 'refused', code: 'card-already-bound', holderId: replacement.residentId, status: replacement.status };
  }
  return { kind: 'replace' };
}

/** Any held card can be unbound (that frees the uid); unbinding twice changes nothing. */
export function decideUnbind(card: StoredCard): CardDecision<'unbind'> {
  return card.status === 'unbound' ? { kind: 'unchanged' } : { kind: 'unbind' };
}
