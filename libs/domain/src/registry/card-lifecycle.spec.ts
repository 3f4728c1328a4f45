import { type StoredCard, decideBind, decideReplace, decideReportLost, decideUnbind } from './card-lifecycle';

const card = (over: Partial<StoredCard> = {}): StoredCard => ({
  uid: '04A1B2C3',
  residentId: 'r1',
  status: 'active',
  replacedByUid: null,
  ...over,
});

describe('card lifecycle decisions', () => {
  describe('bind', () => {
    it('creates a uid never seen', () => {
      expect(decideBind(null, 'r1')).toEqual({ kind: 'create' });
    });

    it('changes nothing when the card is already the same resident’s active card', () => {
      expect(decideBind(card(), 'r1')).toEqual({ kind: 'unchanged' });
    });

    it('rebinds an unbound card to anyone, its last holder included', () => {
      expect(decideBind(card({ status: 'unbound' }), 'r2')).toEqual({ kind: 'rebind' });
      expect(decideBind(card({ status: 'unbound' }), 'r1')).toEqual({ kind: 'rebind' });
    });

    it.each(['active', 'lost', 'replaced'] as const)('refuses a %s card held by someone else', (status) => {
      expect(decideBind(card({ status }), 'r2')).toEqual({ kind: 'refused', code: 'card-already-bound', holderId: 'r1', status });
    });

    it('reactivates a lost card found again by its own holder, but not a replaced one', () => {
      expect(decideBind(card({ status: 'lost' }), 'r1')).toEqual({ kind: 'rebind' });
      expect(decideBind(card({ status: 'replaced' }), 'r1')).toMatchObject({ kind: 'refused', code: 'card-not-active' });
    });
  });

  describe('report lost', () => {
    it('blocks an active card and is a no-op the second time', () => {
      expect(decideReportLost(card())).toEqual({ kind: 'report-lost' });
      expect(decideReportLost(card({ status: 'lost' }))).toEqual({ kind: 'unchanged' });
    });

    it.each(['replaced', 'unbound'] as const)('refuses a %s card', (status) => {
      expect(decideReportLost(card({ status }))).toEqual({ kind: 'refused', code: 'card-not-active', status });
    });
  });

  describe('replace', () => {
    it('replaces an active or lost card with a free uid', () => {
      expect(decideReplace(card(), null)).toEqual({ kind: 'replace' });
      expect(decideReplace(card({ status: 'lost' }), card({ uid: 'NEW', status: 'unbound', residentId: 'r9' }))).toEqual({
        kind: 'replace',
      });
    });

    it('refuses a new uid that someone holds', () => {
      expect(decideReplace(card(), card({ uid: 'NEW', residentId: 'r2' }))).toMatchObject({ kind: 'refused', code: 'card-already-bound' });
    });

    it('refuses to replace a card with itself, or a card already replaced by another', () => {
      expect(decideReplace(card(), card())).toMatchObject({ kind: 'refused', code: 'card-not-active' });
      expect(decideReplace(card({ status: 'replaced', replacedByUid: 'OTHER' }), null)).toMatchObject({
        kind: 'refused',
        code: 'card-not-active',
      });
      expect(decideReplace(card({ status: 'unbound' }), null)).toMatchObject({ kind: 'refused', code: 'card-not-active' });
    });

    it('changes nothing when the same replacement is asked again', () => {
      const old = card({ status: 'replaced', replacedByUid: 'NEW' });
      expect(decideReplace(old, card({ uid: 'NEW' }))).toEqual({ kind: 'unchanged' });
    });
  });

  describe('unbind', () => {
    it.each(['active', 'lost', 'replaced'] as const)('unbinds a %s card', (status) => {
      expect(decideUnbind(card({ status }))).toEqual({ kind: 'unbind' });
    });

    it('changes nothing on an unbound card', () => {
      expect(decideUnbind(card({ status: 'unbound' }))).toEqual({ kind: 'unchanged' });
    });
  });
});
