import { DomainError } from '../domain-error';
import { type CatalogueItemState, cancelDeadline, planRedemption } from './redemption-plan';

const C = 'c0000000-0000-4000-8000-000000000001';
const OTHER = 'c0000000-0000-4000-8000-000000000002';
const item = (
  id: string,
  name: string,
  pricePoints: number,
  stock: number,
  extra: Partial<CatalogueItemState> = {},
): CatalogueItemState => ({
  id,
  communityId: C,
  name,
  pricePoints,
  stock,
  isActive: true,
  ...extra,
});
const towel = item('i1', 'towel', 10, 5);
const spray = item('i2', 'spray bottle', 20, 1);
const oil = item('i3', 'peanut oil', 60, 0);
const catalogue = new Map([towel, spray, oil].map((i) => [i.id, i]));

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('planRedemption', () => {
  it('prices every line at the catalogue price and adds them up', () => {
    const plan = planRedemption(
      C,
      [
        { itemId: 'i1', quantity: 2 },
        { itemId: 'i2', quantity: 1 },
      ],
      catalogue,
    );
    expect(plan.totalPoints).toBe(40);
    expect(plan.lines).toEqual([
      { lineNo: 1, itemId: 'i1', itemName: 'towel', quantity: 2, unitPoints: 10 },
      { lineNo: 2, itemId: 'i2', itemName: 'spray bottle', quantity: 1, unitPoints: 20 },
    ]);
    expect([...plan.stockTaken]).toEqual([
      ['i1', 2],
      ['i2', 1],
    ]);
  });

  it('counts two lines of the same item against its stock together', () => {
    const err = refusal(() =>
      planRedemption(
        C,
        [
          { itemId: 'i1', quantity: 3 },
          { itemId: 'i1', quantity: 3 },
        ],
        catalogue,
      ),
    );
    expect(err.code).toBe('out-of-stock');
    expect(err.message).toBe('only 5 of "towel" left, 6 asked; lower the quantity or restock it first');
    expect(err.details).toMatchObject({ itemId: 'i1', stock: 5, requested: 6 });
  });

  it('names an item that is sold out', () => {
    const err = refusal(() => planRedemption(C, [{ itemId: 'i3', quantity: 1 }], catalogue));
    expect(err.code).toBe('out-of-stock');
    expect(err.message).toContain('"peanut oil" is out of stock');
  });

  it('refuses an item that is off sale', () => {
    const off = new Map([['i1', { ...towel, isActive: false }]]);
    const err = refusal(() => planRedemption(C, [{ itemId: 'i1', quantity: 1 }], off));
    expect(err.code).toBe('item-inactive');
    expect(err.message).toContain('"towel" is not on sale');
  });

  it("refuses an unknown item and another community's item alike", () => {
    expect(refusal(() => planRedemption(C, [{ itemId: 'nope', quantity: 1 }], catalogue)).code).toBe('not-found');
    const foreign = new Map([['i1', { ...towel, communityId: OTHER }]]);
    expect(refusal(() => planRedemption(C, [{ itemId: 'i1', quantity: 1 }], foreign)).code).toBe('not-found');
  });

  it('refuses an empty order and quantities that are not whole and positive', () => {
    expect(refusal(() => planRedemption(C, [], catalogue)).code).toBe('validation-failed');
    expect(refusal(() => planRedemption(C, [{ itemId: 'i1', quantity: 0 }], catalogue)).code).toBe('validation-failed');
    expect(refusal(() => planRedemption(C, [{ itemId: 'i1', quantity: 1.5 }], catalogue)).code).toBe('validation-failed');
  });
});

describe('cancelDeadline', () => {
  it('is the order time plus the window', () => {
    expect(cancelDeadline(new Date('2026-03-01T08:00:00Z'), 30).toISOString()).toBe('2026-03-01T08:30:00.000Z');
  });
});
