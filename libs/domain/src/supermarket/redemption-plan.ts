import { DomainError } from '../domain-error';

/** A catalogue item as a redemption sees it (locked for the transaction). */
export interface CatalogueItemState {
  id: string;
  communityId: string;
  name: string;
  pricePoints: number;
  stock: number;
  isActive: boolean;
}

export interface RedemptionLineRequest {
  itemId: string;
  quantity: number;
}

export interface PlannedLine {
  lineNo: number;
  itemId: string;
  itemName: string;
  quantity: number;
  unitPoints: number;
}

export interface RedemptionPlan {
  lines: PlannedLine[];
  totalPoints: number;
  /** Stock to take per item id (lines naming the same item are added up). */
  stockTaken: Map<string, number>;
}

/** Most a single order may hold: a redemption day's basket, not a warehouse. */
export const MAX_REDEMPTION_LINES = 50;

/**
 * Checks a basket against the catalogue and prices it: every item in this
 * community, on sale, and in stock for the whole quantity asked (lines naming
 * the same item count together). Throws a DomainError naming the first item that
 * cannot be redeemed and what the clerk can do; changes nothing.
 */
export function planRedemption(
  communityId: string,
  requested: readonly RedemptionLineRequest[],
  items: ReadonlyMap<string, CatalogueItemState>,
): RedemptionPlan {
  if (requested.length === 0) throw new DomainError('validation-failed', 'the order has no items: add at least one item');
  if (requested.length > MAX_REDEMPTION_LINES) {
    throw new DomainError('validation-failed', `an order holds at most ${MAX_REDEMPTION_LINES} lines; split it into two orders`);
  }
  const stockTaken = new Map<string, number>();
  const lines: PlannedLine[] = [];
  let totalPoints = 0;
  requested.forEach((line, index) => {
    if (!Number.isInteger(line.quantity) || line.quantity <= 0) {
      throw new DomainError('validation-failed', `line ${index + 1}: the quantity must be a whole number of at least 1`);
    }
    const item = items.get(line.itemId);
    if (!item || item.communityId !== communityId) {
      throw new DomainError(
        'not-found',
        `line ${index + 1}: no item ${line.itemId} in this community's catalogue; pick it from the catalogue`,
        {
          itemId: line.itemId,
        },
      );
    }
    if (!item.isActive) {
      throw new DomainError('item-inactive', `"${item.name}" is not on sale now; remove it from the order or put it back on sale first`, {
        itemId: item.id,
        itemName: item.name,
      });
    }
    const taken = (stockTaken.get(item.id) ?? 0) + line.quantity;
    if (taken > item.stock) {
      throw new DomainError(
        'out-of-stock',
        item.stock === 0
          ? `"${item.name}" is out of stock; remove it from the order or restock it first`
          : `only ${item.stock} of "${item.name}" left, ${taken} asked; lower the quantity or restock it first`,
        { itemId: item.id, itemName: item.name, stock: item.stock, requested: taken },
      );
    }
    stockTaken.set(item.id, taken);
    totalPoints += item.pricePoints * line.quantity;
    lines.push({ lineNo: index + 1, itemId: item.id, itemName: item.name, quantity: line.quantity, unitPoints: item.pricePoints });
  });
  if (!Number.isSafeInteger(totalPoints) || totalPoints > 2_147_483_647) {
    throw new DomainError('validation-failed', 'the order is too large; split it into smaller orders');
  }
  return { lines, totalPoints, stockTaken };
}

/** Whether an order made at `createdAt` may still be cancelled at `now`, and until when. */
export function cancelDeadline(createdAt: Date, cancelMinutes: number): Date {
  return new Date(createdAt.getTime() + cancelMinutes * 60_000);
}
