/**
 * The points supermarket's SQL. Writers lock in the ledger's order — chain heads,
 * then residents (append-entries.ts) — and then catalogue items by id, so a
 * redemption, a cancellation and a ledger posting never deadlock. Every parameter
 * is text (JSON where it is a list or a record): embedded mode PREPAREs each
 * statement and passes its arguments as literals.
 */

export const ITEM_COLUMNS = `id, community_id, name, price_points, stock, is_active, created_at, updated_at`;

/** $1 community. */
export const COMMUNITY_SETTINGS = `
SELECT id, timezone, gift_daily_limit, redemption_cancel_minutes
FROM community WHERE id = ANY (ARRAY(SELECT $1::uuid))`;

/** $1 resident ids (JSON array). */
export const RESIDENTS_BY_ID = `
SELECT id, community_id, name, balance, pending_points
FROM resident
WHERE id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::uuid))`;

/** $1 item {id, community_id, name, price_points, stock, is_active}. Nothing returned: the name is taken. */
export const INSERT_ITEM = `
INSERT INTO catalogue_item (id, community_id, name, price_points, stock, is_active)
SELECT v.id, v.community_id, v.name, v.price_points, v.stock, v.is_active
FROM jsonb_to_record($1::jsonb) AS v(id uuid, community_id uuid, name text, price_points integer, stock integer, is_active boolean)
ON CONFLICT (community_id, name) DO NOTHING
RETURNING ${ITEM_COLUMNS}`;

/** $1 community, $2 'all' | 'active' | 'inactive'. */
export const LIST_ITEMS = `
SELECT ${ITEM_COLUMNS} FROM catalogue_item
WHERE community_id = ANY (ARRAY(SELECT $1::uuid))
  AND ($2::text = 'all' OR is_active = ($2::text = 'active'))
ORDER BY name`;

/** $1 item ids (JSON array). */
export const ITEMS_BY_ID = `
SELECT ${ITEM_COLUMNS} FROM catalogue_item
WHERE id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::uuid))
ORDER BY id`;

/** The same, locked: after the chain head and the resident (see the header). */
export const LOCK_ITEMS = `${ITEMS_BY_ID}
FOR UPDATE`;

/** $1 item id, $2 patch {name?, price_points?, stock?, is_active?}: absent fields are kept. */
export const UPDATE_ITEM = `
UPDATE catalogue_item SET
  name = COALESCE($2::jsonb->>'name', name),
  price_points = COALESCE(($2::jsonb->>'price_points')::integer, price_points),
  stock = COALESCE(($2::jsonb->>'stock')::integer, stock),
  is_active = COALESCE(($2::jsonb->>'is_active')::boolean, is_active),
  updated_at = CURRENT_TIMESTAMP
WHERE id = ANY (ARRAY(SELECT $1::uuid))
RETURNING ${ITEM_COLUMNS}`;

/** $1 community, $2 name, $3 item id to leave out: another item of that name? */
export const NAME_TAKEN = `
SELECT id FROM catalogue_item
WHERE community_id = ANY (ARRAY(SELECT $1::uuid)) AND name = $2::text AND id <> $3::uuid`;

/** $1 [{id, delta}]: adds delta to each item's stock (negative takes). */
export const ADJUST_STOCK = `
UPDATE catalogue_item SET stock = catalogue_item.stock + v.delta, updated_at = CURRENT_TIMESTAMP
FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, delta integer)
WHERE catalogue_item.id = v.id
RETURNING catalogue_item.id, catalogue_item.stock`;

export const ORDER_COLUMNS = `o.id, o.community_id, o.resident_id, o.total_points, o.status::text AS status,
  o.ledger_entry_id::text AS ledger_entry_id, o.actor, o.created_at, o.cancelled_at, o.cancelled_by`;

/** $1 order {id, community_id, resident_id, total_points, ledger_entry_id, actor, created_at}, $2 lines. */
export const INSERT_ORDER = `
WITH o AS (
  INSERT INTO redemption_order (id, community_id, resident_id, total_points, status, ledger_entry_id, actor, created_at)
  SELECT v.id, v.community_id, v.resident_id, v.total_points, 'completed', v.ledger_entry_id, v.actor, v.created_at
  FROM jsonb_to_record($1::jsonb) AS v(id uuid, community_id uuid, resident_id uuid, total_points integer,
    ledger_entry_id bigint, actor text, created_at timestamptz)
  RETURNING id
), l AS (
  INSERT INTO redemption_line (order_id, line_no, item_id, item_name, quantity, unit_points)
  SELECT (SELECT id FROM o), v.line_no, v.item_id, v.item_name, v.quantity, v.unit_points
  FROM jsonb_to_recordset($2::jsonb) AS v(line_no integer, item_id uuid, item_name text, quantity integer, unit_points integer)
  RETURNING 1
)
SELECT id, (SELECT count(*) FROM l)::integer AS lines FROM o`;

/** $1 order ids (JSON array). */
export const ORDERS_BY_ID = `
SELECT ${ORDER_COLUMNS} FROM redemption_order o
WHERE o.id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::uuid))`;

export const LOCK_ORDER = `${ORDERS_BY_ID}
FOR UPDATE`;

/** $1 ledger entry ids (JSON array). */
export const ORDERS_BY_LEDGER_ENTRY = `
SELECT ${ORDER_COLUMNS} FROM redemption_order o
WHERE o.ledger_entry_id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::bigint))`;

/** $1 resident, $2 limit. Newest first. */
export const ORDERS_OF_RESIDENT = `
SELECT ${ORDER_COLUMNS} FROM redemption_order o
WHERE o.resident_id = ANY (ARRAY(SELECT $1::uuid))
ORDER BY o.created_at DESC, o.id
LIMIT $2::integer`;

/** $1 order ids (JSON array). */
export const LINES_OF_ORDERS = `
SELECT order_id, line_no, item_id, item_name, quantity, unit_points
FROM redemption_line
WHERE order_id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::uuid))
ORDER BY order_id, line_no`;

/** $1 order id, $2 when, $3 who. */
export const MARK_CANCELLED = `
UPDATE redemption_order SET status = 'cancelled', cancelled_at = $2::timestamptz, cancelled_by = $3::text
WHERE id = ANY (ARRAY(SELECT $1::uuid)) AND status = 'completed'
RETURNING id`;

/** $1 ledger entry ids (JSON array): the reversal of each, if any. */
export const REVERSALS_OF = `
SELECT id::text AS id, reverses_entry_id::text AS reverses_entry_id FROM ledger_entry
WHERE reverses_entry_id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::bigint))`;

/**
 * $1 giver, $2 from, $3 to: points the resident gave in that window, gifts
 * reversed since left out.
 */
export const GIVEN_BETWEEN = `
SELECT COALESCE(sum(e.amount), 0)::integer AS given
FROM ledger_entry e
WHERE e.debit_resident_id = ANY (ARRAY(SELECT $1::uuid))
  AND e.source = 'gift' AND e.kind = 'posted' AND e.reverses_entry_id IS NULL
  AND e.created_at >= $2::timestamptz AND e.created_at < $3::timestamptz
  AND NOT EXISTS (SELECT 1 FROM ledger_entry r WHERE r.reverses_entry_id = e.id)`;

/** $1 device id. */
export const DEVICE_BY_ID = `SELECT id, kind::text AS kind, community_id, label FROM device WHERE id = ANY (ARRAY(SELECT $1::text))`;

/** $1 device id: its newest tap, with the resident it named as they are now. */
export const LAST_TAP = `
SELECT e.id::text AS id, e.event_id, e.card_uid, e.occurred_at, e.received_at, e.result::text AS result, e.reason,
  r.id AS resident_id, r.name AS resident_name, r.balance, r.pending_points
FROM device_event e
LEFT JOIN resident r ON r.id = e.resident_id
WHERE e.device_id = $1::text AND e.type = 'tap'
ORDER BY e.id DESC
LIMIT 1`;
