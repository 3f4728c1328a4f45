import { randomUUID } from 'node:crypto';
import {
  type CatalogueItemState,
  DomainError,
  type LedgerEntryDraft,
  type RedemptionLineRequest,
  accountName,
  cancelDeadline,
  localDayWindow,
  maskName,
  planRedemption,
  residentAccount,
  systemAccount,
} from '../../../domain/src';
import type { Database, SqlQuery } from '../database';
import { lockChainHeads, lockResidents } from '../ledger/append-entries';
import type { LedgerRepository, PostedEntry } from '../ledger/ledger.repository';
import * as SQL from './supermarket.sql';

export interface CatalogueItem {
  id: string;
  communityId: string;
  name: string;
  pricePoints: number;
  stock: number;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface RedemptionLine {
  lineNo: number;
  itemId: string;
  itemName: string;
  quantity: number;
  unitPoints: number;
  linePoints: number;
}

export interface RedemptionOrder {
  id: string;
  communityId: string;
  residentId: string;
  totalPoints: number;
  status: 'completed' | 'cancelled';
  ledgerEntryId: string;
  actor: string;
  createdAt: Date;
  /** Until when a clerk may cancel it (the community's redemption_cancel_minutes). */
  cancellableUntil: Date | null;
  cancelledAt: Date | null;
  cancelledBy: string | null;
  lines: RedemptionLine[];
}

export interface RedemptionResult {
  order: RedemptionOrder;
  /** The resident's balance after the order (as the order's ledger entry says). */
  balanceAfter: number | null;
  /** The same idempotency key was used before: this is the first call's order, nothing new was written. */
  isReplay: boolean;
}

export interface CancellationResult {
  order: RedemptionOrder;
  reversal: PostedEntry;
}

export interface GiftResult {
  entry: PostedEntry;
  /** Points the giver has given today (their community's day), this gift included. */
  givenToday: number;
  dailyLimit: number;
  isReplay: boolean;
}

export interface CounterTap {
  deviceId: string;
  communityId: string;
  deviceLabel: string | null;
  tap: {
    eventId: string;
    cardUid: string | null;
    /** When the resident tapped (the device clock), or when it arrived if the device did not say. */
    at: Date;
    receivedAt: Date;
    result: string;
    reason: string | null;
    /** Null when the card is not bound to anyone. */
    resident: { id: string; maskedName: string; balance: number; pendingPoints: number } | null;
  } | null;
}

interface ItemRow {
  id: string;
  community_id: string;
  name: string;
  price_points: number;
  stock: number;
  is_active: boolean;
  created_at: Date | string;
  updated_at: Date | string;
}

interface OrderRow {
  id: string;
  community_id: string;
  resident_id: string;
  total_points: number;
  status: 'completed' | 'cancelled';
  ledger_entry_id: string;
  actor: string;
  created_at: Date | string;
  cancelled_at: Date | string | null;
  cancelled_by: string | null;
}

interface LineRow {
  order_id: string;
  line_no: number;
  item_id: string;
  item_name: string;
  quantity: number;
  unit_points: number;
}

interface CommunityRow {
  id: string;
  timezone: string;
  gift_daily_limit: number;
  redemption_cancel_minutes: number;
}

interface ResidentRow {
  id: string;
  community_id: string;
  name: string;
  balance: number;
  pending_points: number;
}

function toItem(r: ItemRow): CatalogueItem {
  return {
    id: r.id,
    communityId: r.community_id,
    name: r.name,
    pricePoints: r.price_points,
    stock: r.stock,
    isActive: r.is_active,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

function toItemState(r: ItemRow): CatalogueItemState {
  return { id: r.id, communityId: r.community_id, name: r.name, pricePoints: r.price_points, stock: r.stock, isActive: r.is_active };
}

function toOrder(r: OrderRow, lines: LineRow[], cancelMinutes: number | null): RedemptionOrder {
  const createdAt = new Date(r.created_at);
  return {
    id: r.id,
    communityId: r.community_id,
    residentId: r.resident_id,
    totalPoints: r.total_points,
    status: r.status,
    ledgerEntryId: r.ledger_entry_id,
    actor: r.actor,
    createdAt,
    cancellableUntil: r.status === 'completed' && cancelMinutes !== null ? cancelDeadline(createdAt, cancelMinutes) : null,
    cancelledAt: r.cancelled_at === null ? null : new Date(r.cancelled_at),
    cancelledBy: r.cancelled_by,
    lines: lines
      .filter((l) => l.order_id === r.id)
      .map((l) => ({
        lineNo: l.line_no,
        itemId: l.item_id,
        itemName: l.item_name,
        quantity: l.quantity,
        unitPoints: l.unit_points,
        linePoints: l.quantity * l.unit_points,
      })),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The points supermarket (积分超市): the catalogue, redemptions (an order of
 * goods paid with one ledger entry resident → supermarket, stock taken in the
 * same transaction), cancellations within the community's window, gifts between
 * residents, and what the clerk's screen shows of the last card tap at a counter.
 */
export class SupermarketRepository {
  constructor(
    private readonly db: Database,
    private readonly ledger: LedgerRepository,
    private readonly now: () => number = Date.now,
  ) {}

  // Catalogue ---------------------------------------------------------------------

  async createItem(input: {
    communityId: string;
    name: string;
    pricePoints: number;
    stock: number;
    isActive?: boolean;
  }): Promise<CatalogueItem> {
    return this.db.transaction(async (q) => {
      await this.communityIn(q, input.communityId);
      const [row] = await q<ItemRow>(SQL.INSERT_ITEM, [
        JSON.stringify({
          id: randomUUID(),
          community_id: input.communityId,
          name: input.name,
          price_points: input.pricePoints,
          stock: input.stock,
          is_active: input.isActive ?? true,
        }),
      ]);
      if (!row) {
        throw new DomainError(
          'conflict',
          `the catalogue already has an item named "${input.name}"; change that item's price or stock instead`,
          {
            name: input.name,
          },
        );
      }
      return toItem(row);
    });
  }

  async listItems(communityId: string, filter: 'all' | 'active' | 'inactive' = 'all'): Promise<CatalogueItem[]> {
    const rows = await this.db.transaction(async (q) => {
      await this.communityIn(q, communityId);
      return q<ItemRow>(SQL.LIST_ITEMS, [communityId, filter]);
    });
    return rows.map(toItem);
  }

  async findItem(itemId: string): Promise<CatalogueItem | null> {
    if (!UUID.test(itemId)) return null;
    const [row] = await this.db.transaction((q) => q<ItemRow>(SQL.ITEMS_BY_ID, [JSON.stringify([itemId])]));
    return row ? toItem(row) : null;
  }

  /** Changes what is given; the rest stays. Stock here is the count on the shelf (restock() adds to it). */
  async updateItem(
    itemId: string,
    patch: { name?: string; pricePoints?: number; stock?: number; isActive?: boolean },
  ): Promise<CatalogueItem> {
    return this.db.transaction(async (q) => {
      const [current] = await q<ItemRow>(SQL.LOCK_ITEMS, [JSON.stringify([itemId])]);
      if (!current) throw new DomainError('not-found', `no catalogue item ${itemId}`);
      if (patch.name !== undefined && patch.name !== current.name) {
        const taken = await q(SQL.NAME_TAKEN, [current.community_id, patch.name, itemId]);
        if (taken.length > 0) {
          throw new DomainError('conflict', `the catalogue already has an item named "${patch.name}"; pick another name`, {
            name: patch.name,
          });
        }
      }
      const [row] = await q<ItemRow>(SQL.UPDATE_ITEM, [
        itemId,
        JSON.stringify({ name: patch.name, price_points: patch.pricePoints, stock: patch.stock, is_active: patch.isActive }),
      ]);
      return toItem(row!);
    });
  }

  /** Adds delta (negative: takes, e.g. damaged goods) to the stock; never below zero. */
  async restock(itemId: string, delta: number): Promise<CatalogueItem> {
    return this.db.transaction(async (q) => {
      const [current] = await q<ItemRow>(SQL.LOCK_ITEMS, [JSON.stringify([itemId])]);
      if (!current) throw new DomainError('not-found', `no catalogue item ${itemId}`);
      if (current.stock + delta < 0) {
        throw new DomainError(
          'out-of-stock',
          `only ${current.stock} of "${current.name}" in stock; at most ${current.stock} can be taken off`,
          {
            itemId,
            itemName: current.name,
            stock: current.stock,
          },
        );
      }
      await q(SQL.ADJUST_STOCK, [JSON.stringify([{ id: itemId, delta }])]);
      const [row] = await q<ItemRow>(SQL.ITEMS_BY_ID, [JSON.stringify([itemId])]);
      return toItem(row!);
    });
  }

  // Redemptions -------------------------------------------------------------------

  /**
   * One order in one transaction: locks the community's chain head and the
   * resident (as the ledger does), then the items by id; checks every line;
   * posts one entry resident → supermarket for the total; takes the stock;
   * writes the order. Any refusal (not enough points, out of stock, an item off
   * sale) leaves everything as it was. Two clerks selling the last item: the
   * second waits on the item's lock and then finds it gone.
   */
  async redeem(input: {
    communityId: string;
    residentId: string;
    lines: RedemptionLineRequest[];
    actor: string;
    idempotencyKey: string;
  }): Promise<RedemptionResult> {
    const ledgerKey = `redemption:${input.idempotencyKey}`;
    const result = await this.db.transaction(async (q): Promise<RedemptionResult> => {
      const community = await this.communityIn(q, input.communityId);
      const resident = await this.residentIn(q, input.residentId);
      if (resident.community_id !== input.communityId) {
        throw new DomainError('wrong-community', "the resident belongs to another community; redeem at their own community's supermarket", {
          residentId: input.residentId,
        });
      }
      await lockChainHeads(q, [input.communityId]);
      await lockResidents(q, [input.residentId]);

      const replay = await this.orderByLedgerKey(q, ledgerKey, community.redemption_cancel_minutes);
      if (replay) {
        if (replay.order.residentId !== input.residentId) {
          throw new DomainError(
            'idempotency-key-reused',
            'this Idempotency-Key was already used for another order; send a new key for a new order',
          );
        }
        return { ...replay, isReplay: true };
      }

      const itemIds = [...new Set(input.lines.map((l) => l.itemId))].filter((id) => UUID.test(id));
      const rows = itemIds.length > 0 ? await q<ItemRow>(SQL.LOCK_ITEMS, [JSON.stringify(itemIds.sort())]) : [];
      const plan = planRedemption(input.communityId, input.lines, new Map(rows.map((r) => [r.id, toItemState(r)])));

      const draft: Omit<LedgerEntryDraft, 'createdAt'> = {
        communityId: input.communityId,
        kind: 'posted',
        debitAccount: accountName(residentAccount(input.residentId)),
        creditAccount: accountName(systemAccount('supermarket', input.communityId)),
        amount: plan.totalPoints,
        source: 'redemption',
        pendingEntryId: null,
        reversesEntryId: null,
        idempotencyKey: ledgerKey,
        actor: input.actor,
        reason: plan.lines
          .map((l) => `${l.itemName} × ${l.quantity}`)
          .join(', ')
          .slice(0, 500),
      };
      const posted = await this.ledger.postIn(q, [draft]);
      const entry = posted.entries[0]!;
      if (posted.isReplay) throw new Error(`ledger key ${ledgerKey} was posted without its order`);

      await q(SQL.ADJUST_STOCK, [JSON.stringify([...plan.stockTaken].map(([id, taken]) => ({ id, delta: -taken })))]);
      const orderId = randomUUID();
      await q(SQL.INSERT_ORDER, [
        JSON.stringify({
          id: orderId,
          community_id: input.communityId,
          resident_id: input.residentId,
          total_points: plan.totalPoints,
          ledger_entry_id: entry.id,
          actor: input.actor,
          created_at: entry.createdAt.toISOString(),
        }),
        JSON.stringify(
          plan.lines.map((l) => ({
            line_no: l.lineNo,
            item_id: l.itemId,
            item_name: l.itemName,
            quantity: l.quantity,
            unit_points: l.unitPoints,
          })),
        ),
      ]);
      const order = await this.orderIn(q, orderId, community.redemption_cancel_minutes);
      return { order: order!, balanceAfter: entry.debitBalanceAfter, isReplay: false };
    });
    if (!result.isReplay) await this.db.makeDurable();
    return result;
  }

  /**
   * Cancels a completed order within the community's window: an entry
   * supermarket → resident for the total that reverses the order's entry
   * (key `reversal:<entryId>`, so it is reversed once however it is asked),
   * the goods back in stock, the order marked cancelled — in one transaction.
   */
  async cancel(input: { orderId: string; reason: string; actor: string }): Promise<CancellationResult> {
    const result = await this.db.transaction(async (q): Promise<CancellationResult> => {
      const [found] = UUID.test(input.orderId) ? await q<OrderRow>(SQL.ORDERS_BY_ID, [JSON.stringify([input.orderId])]) : [];
      if (!found) throw new DomainError('not-found', `no redemption order ${input.orderId}`);
      const community = await this.communityIn(q, found.community_id);
      await lockChainHeads(q, [found.community_id]);
      await lockResidents(q, [found.resident_id]);
      const [order] = await q<OrderRow>(SQL.LOCK_ORDER, [JSON.stringify([input.orderId])]);
      if (order!.status === 'cancelled') {
        throw new DomainError(
          'already-cancelled',
          `this order was already cancelled${order!.cancelled_by ? ` by ${order!.cancelled_by}` : ''} at ${new Date(order!.cancelled_at!).toISOString()}; its points and goods are back`,
          { orderId: order!.id },
        );
      }
      const now = new Date(this.now());
      const deadline = cancelDeadline(new Date(order!.created_at), community.redemption_cancel_minutes);
      if (now.getTime() > deadline.getTime()) {
        throw new DomainError(
          'cancel-window-passed',
          `an order can be cancelled within ${community.redemption_cancel_minutes} minutes and this one was made at ${new Date(order!.created_at).toISOString()}; ` +
            'to give the points back now, ask a credit administrator to reverse its ledger entry',
          { orderId: order!.id, ledgerEntryId: order!.ledger_entry_id, cancellableUntil: deadline.toISOString() },
        );
      }
      const lines = await q<LineRow>(SQL.LINES_OF_ORDERS, [JSON.stringify([order!.id])]);
      const itemIds = [...new Set(lines.map((l) => l.item_id))].sort();
      await q(SQL.LOCK_ITEMS, [JSON.stringify(itemIds)]);

      const posted = await this.ledger.postIn(q, [
        {
          communityId: order!.community_id,
          kind: 'posted',
          debitAccount: accountName(systemAccount('supermarket', order!.community_id)),
          creditAccount: accountName(residentAccount(order!.resident_id)),
          amount: order!.total_points,
          source: 'reversal',
          pendingEntryId: null,
          reversesEntryId: order!.ledger_entry_id,
          idempotencyKey: `reversal:${order!.ledger_entry_id}`,
          actor: input.actor,
          reason: input.reason,
        },
      ]);
      const returned = new Map<string, number>();
      for (const l of lines) returned.set(l.item_id, (returned.get(l.item_id) ?? 0) + l.quantity);
      await q(SQL.ADJUST_STOCK, [JSON.stringify([...returned].map(([id, delta]) => ({ id, delta })))]);
      await q(SQL.MARK_CANCELLED, [order!.id, now.toISOString(), input.actor]);
      const cancelled = await this.orderIn(q, order!.id, community.redemption_cancel_minutes);
      return { order: cancelled!, reversal: posted.entries[0]! };
    });
    await this.db.makeDurable();
    return result;
  }

  async findOrder(orderId: string): Promise<RedemptionOrder | null> {
    if (!UUID.test(orderId)) return null;
    return this.db.transaction(async (q) => {
      const [row] = await q<OrderRow>(SQL.ORDERS_BY_ID, [JSON.stringify([orderId])]);
      if (!row) return null;
      const community = await this.communityIn(q, row.community_id);
      return this.orderIn(q, orderId, community.redemption_cancel_minutes);
    });
  }

  /** A resident's orders, newest first, with their lines. */
  async ordersOf(residentId: string, limit = 100): Promise<RedemptionOrder[]> {
    return this.db.transaction(async (q) => {
      const resident = await this.residentIn(q, residentId);
      const community = await this.communityIn(q, resident.community_id);
      const rows = await q<OrderRow>(SQL.ORDERS_OF_RESIDENT, [residentId, String(limit)]);
      if (rows.length === 0) return [];
      const lines = await q<LineRow>(SQL.LINES_OF_ORDERS, [JSON.stringify(rows.map((r) => r.id))]);
      return rows.map((r) => toOrder(r, lines, community.redemption_cancel_minutes));
    });
  }

  // Gifts -------------------------------------------------------------------------

  /**
   * One resident gives points to a neighbour in the same community: one entry
   * resident → resident (source gift, reason = the note). The giver may give at
   * most the community's gift_daily_limit a day, counted by the community's
   * time zone; the giver's row is locked before counting, so two gifts at once
   * cannot both slip under the limit.
   */
  async gift(input: {
    fromResidentId: string;
    toResidentId: string;
    amount: number;
    note: string | null;
    actor: string;
    idempotencyKey: string;
  }): Promise<GiftResult> {
    if (input.fromResidentId === input.toResidentId) {
      throw new DomainError('validation-failed', 'a resident cannot give points to themselves; choose another resident to receive them');
    }
    if (!Number.isInteger(input.amount) || input.amount <= 0) {
      throw new DomainError('validation-failed', 'the gift must be a whole number of points, at least 1');
    }
    const ledgerKey = `gift:${input.idempotencyKey}`;
    const result = await this.db.transaction(async (q): Promise<GiftResult> => {
      const from = await this.residentIn(q, input.fromResidentId);
      const to = await this.residentIn(q, input.toResidentId);
      if (from.community_id !== to.community_id) {
        throw new DomainError('wrong-community', 'points can be given only to a resident of the same community', {
          fromResidentId: from.id,
          toResidentId: to.id,
        });
      }
      const community = await this.communityIn(q, from.community_id);
      await lockChainHeads(q, [community.id]);
      await lockResidents(q, [from.id, to.id]);
      const window = localDayWindow(new Date(this.now()), community.timezone);
      const [given] = await q<{ given: number }>(SQL.GIVEN_BETWEEN, [from.id, window.start.toISOString(), window.end.toISOString()]);
      const givenBefore = given?.given ?? 0;

      const posted = await this.ledger.postIn(q, [
        {
          communityId: community.id,
          kind: 'posted',
          debitAccount: accountName(residentAccount(from.id)),
          creditAccount: accountName(residentAccount(to.id)),
          amount: input.amount,
          source: 'gift',
          pendingEntryId: null,
          reversesEntryId: null,
          idempotencyKey: ledgerKey,
          actor: input.actor,
          reason: input.note,
        },
      ]);
      const entry = posted.entries[0]!;
      if (posted.isReplay) {
        if (entry.debitAccount !== accountName(residentAccount(from.id)) || entry.creditAccount !== accountName(residentAccount(to.id))) {
          throw new DomainError(
            'idempotency-key-reused',
            'this Idempotency-Key was already used for another gift; send a new key for a new gift',
          );
        }
        return { entry, givenToday: givenBefore, dailyLimit: community.gift_daily_limit, isReplay: true };
      }
      if (givenBefore + input.amount > community.gift_daily_limit) {
        // Thrown after posting so a replay is answered first; the transaction rolls the entry back.
        const left = Math.max(0, community.gift_daily_limit - givenBefore);
        throw new DomainError(
          'gift-limit-reached',
          `a resident may give at most ${community.gift_daily_limit} points a day; ${maskName(from.name)} has given ${givenBefore} today, ` +
            (left > 0 ? `so at most ${left} more can be given today` : 'so nothing more can be given until tomorrow'),
          { dailyLimit: community.gift_daily_limit, givenToday: givenBefore, left, day: window.day },
        );
      }
      return { entry, givenToday: givenBefore + input.amount, dailyLimit: community.gift_daily_limit, isReplay: false };
    });
    if (!result.isReplay) await this.db.makeDurable();
    return result;
  }

  // The clerk's screen ------------------------------------------------------------

  /** The newest card tap at a counter reader, with the resident it named (masked name, points now). */
  async lastCounterTap(deviceId: string): Promise<CounterTap> {
    return this.db.transaction(async (q) => {
      const [device] = await q<{ id: string; kind: string; community_id: string; label: string | null }>(SQL.DEVICE_BY_ID, [deviceId]);
      if (!device) throw new DomainError('not-found', `no device ${deviceId}`);
      if (device.kind !== 'counter') {
        throw new DomainError(
          'validation-failed',
          `device ${deviceId} is a ${device.kind}, not a counter reader; pick the reader at the supermarket counter`,
        );
      }
      const [tap] = await q<{
        id: string;
        event_id: string;
        card_uid: string | null;
        occurred_at: Date | string | null;
        received_at: Date | string;
        result: string;
        reason: string | null;
        resident_id: string | null;
        resident_name: string | null;
        balance: number | null;
        pending_points: number | null;
      }>(SQL.LAST_TAP, [deviceId]);
      return {
        deviceId: device.id,
        communityId: device.community_id,
        deviceLabel: device.label,
        tap: tap
          ? {
              eventId: tap.event_id,
              cardUid: tap.card_uid,
              at: new Date(tap.occurred_at ?? tap.received_at),
              receivedAt: new Date(tap.received_at),
              result: tap.result,
              reason: tap.reason,
              resident:
                tap.resident_id === null
                  ? null
                  : {
                      id: tap.resident_id,
                      maskedName: maskName(tap.resident_name ?? ''),
                      balance: tap.balance ?? 0,
                      pendingPoints: tap.pending_points ?? 0,
                    },
            }
          : null,
      };
    });
  }

  /** The community a resident or item or order belongs to (for the API's community checks); null if there is none. */
  async communityOfResident(residentId: string): Promise<string | null> {
    if (!UUID.test(residentId)) return null;
    const [row] = await this.db.transaction((q) => q<ResidentRow>(SQL.RESIDENTS_BY_ID, [JSON.stringify([residentId])]));
    return row?.community_id ?? null;
  }

  // Inside a transaction ------------------------------------------------------------

  private async communityIn(q: SqlQuery, communityId: string): Promise<CommunityRow> {
    const [row] = UUID.test(communityId) ? await q<CommunityRow>(SQL.COMMUNITY_SETTINGS, [communityId]) : [];
    if (!row) throw new DomainError('not-found', `no community with id ${communityId}`);
    return row;
  }

  private async residentIn(q: SqlQuery, residentId: string): Promise<ResidentRow> {
    const [row] = UUID.test(residentId) ? await q<ResidentRow>(SQL.RESIDENTS_BY_ID, [JSON.stringify([residentId])]) : [];
    if (!row) throw new DomainError('not-found', `no resident with id ${residentId}`);
    return row;
  }

  private async orderIn(q: SqlQuery, orderId: string, cancelMinutes: number): Promise<RedemptionOrder | null> {
    const [row] = await q<OrderRow>(SQL.ORDERS_BY_ID, [JSON.stringify([orderId])]);
    if (!row) return null;
    const lines = await q<LineRow>(SQL.LINES_OF_ORDERS, [JSON.stringify([orderId])]);
    return toOrder(row, lines, cancelMinutes);
  }

  /** The order a redemption's ledger key already paid for, if it was posted. */
  private async orderByLedgerKey(
    q: SqlQuery,
    ledgerKey: string,
    cancelMinutes: number,
  ): Promise<{ order: RedemptionOrder; balanceAfter: number | null } | null> {
    const [entry] = await q<{ id: string; debit_balance_after: number | null }>(
      'SELECT id::text AS id, debit_balance_after FROM ledger_entry WHERE idempotency_key = ANY (ARRAY(SELECT $1::text))',
      [ledgerKey],
    );
    if (!entry) return null;
    const [row] = await q<OrderRow>(SQL.ORDERS_BY_LEDGER_ENTRY, [JSON.stringify([entry.id])]);
    if (!row) throw new DomainError('idempotency-key-reused', 'this Idempotency-Key was already used for another posting; send a new key');
    const lines = await q<LineRow>(SQL.LINES_OF_ORDERS, [JSON.stringify([row.id])]);
    return { order: toOrder(row, lines, cancelMinutes), balanceAfter: entry.debit_balance_after };
  }
}
