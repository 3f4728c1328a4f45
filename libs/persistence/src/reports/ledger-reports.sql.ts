/**
 * The reports' SQL: statements, the quarterly reconciliation, leaderboards.
 * Everything over many entries is aggregated in PostgreSQL (one GROUP BY per
 * report), so a community with a million entries never crosses into Node;
 * only one row per resident does. Parameters are text and cast here (the
 * embedded database PREPAREs each statement and passes literals).
 *
 * A resident's side of an entry ("sides" below): the credit side gains
 * `amount`, the debit side loses it; pending entries move nothing but pending
 * points, settle moves pending into the balance, void drops pending.
 */

/** Each entry once per resident side, with its direction (+1 credit, -1 debit) and the other account. */
const sidesOf = (entries: string) => `
  SELECT s.resident_id, s.dir, e.id, e.kind::text AS kind, e.source::text AS source, e.amount, e.created_at,
         s.other, s.balance_after
  FROM ${entries} e
  CROSS JOIN LATERAL (VALUES
    (e.credit_resident_id, 1, e.debit_account, e.credit_balance_after),
    (e.debit_resident_id, -1, e.credit_account, e.debit_balance_after)
  ) AS s(resident_id, dir, other, balance_after)
  WHERE s.resident_id IS NOT NULL`;

/** What an entry does to the side's posted balance. */
const BALANCE_DELTA = `CASE WHEN kind = 'posted' THEN dir * amount WHEN kind = 'settle' THEN amount ELSE 0 END`;
/** What an entry does to the side's pending points. */
const PENDING_DELTA = `CASE kind WHEN 'pending' THEN amount WHEN 'settle' THEN -amount WHEN 'void' THEN -amount ELSE 0 END`;
/** A balance-moving entry (posted, or settle of a pending). */
const MOVES = `kind IN ('posted', 'settle')`;

/**
 * The categories of the reconciliation equation, each a balance movement of one
 * side, so that every posted/settled entry falls in exactly one:
 *   earned:     into the resident from the issuance account (device events, activities, manual credits, openings, settled pendings)
 *   redeemed:   out to the supermarket account (a refund from it counts negative)
 *   giftedOut / giftedIn: gifts between residents
 *   expired:    out to the expiry account
 *   adjustments: reversals (signed), and anything else (signed), so nothing is missed
 */
const CATEGORY = `CASE
    WHEN source = 'reversal' THEN 'adjustment'
    WHEN source = 'gift' AND other LIKE 'resident:%' THEN CASE WHEN dir = 1 THEN 'gift_in' ELSE 'gift_out' END
    WHEN dir = 1 AND other LIKE 'issuance:%' THEN 'earned'
    WHEN other LIKE 'supermarket:%' THEN 'redeemed'
    WHEN dir = -1 AND other LIKE 'expiry:%' THEN 'expired'
    ELSE 'adjustment' END`;

/**
 * $1 community, $2 from, $3 to. One row per resident of the community (also
 * those without entries): the ledger's own sums (before the period, in it by
 * category, all time), the stored balance-after of the last entry before each
 * end, and the resident row's balance and pending points.
 */
export const RECONCILIATION = `
WITH sides AS (${sidesOf(`(SELECT * FROM ledger_entry WHERE community_id = $1::uuid)`)}),
agg AS (
  SELECT resident_id,
    COALESCE(SUM(${BALANCE_DELTA}) FILTER (WHERE created_at < $2::timestamptz), 0)::bigint AS opening,
    COALESCE(SUM(${PENDING_DELTA}) FILTER (WHERE created_at < $2::timestamptz), 0)::bigint AS opening_pending,
    COALESCE(SUM(${BALANCE_DELTA}) FILTER (WHERE created_at < $3::timestamptz), 0)::bigint AS closing,
    COALESCE(SUM(${PENDING_DELTA}) FILTER (WHERE created_at < $3::timestamptz), 0)::bigint AS closing_pending,
    COALESCE(SUM(${BALANCE_DELTA}), 0)::bigint AS ledger_balance,
    COALESCE(SUM(${PENDING_DELTA}), 0)::bigint AS ledger_pending,
    COALESCE(SUM(amount) FILTER (WHERE in_period AND ${MOVES} AND category = 'earned'), 0)::bigint AS earned,
    COALESCE(SUM(-dir * amount) FILTER (WHERE in_period AND ${MOVES} AND category = 'redeemed'), 0)::bigint AS redeemed,
    COALESCE(SUM(amount) FILTER (WHERE in_period AND ${MOVES} AND category = 'gift_out'), 0)::bigint AS gifted_out,
    COALESCE(SUM(amount) FILTER (WHERE in_period AND ${MOVES} AND category = 'gift_in'), 0)::bigint AS gifted_in,
    COALESCE(SUM(amount) FILTER (WHERE in_period AND ${MOVES} AND category = 'expired'), 0)::bigint AS expired,
    COALESCE(SUM(dir * amount) FILTER (WHERE in_period AND ${MOVES} AND category = 'adjustment'), 0)::bigint AS adjustments,
    COALESCE(SUM(amount) FILTER (WHERE in_period AND kind = 'pending'), 0)::bigint AS pending_added,
    COALESCE(SUM(amount) FILTER (WHERE in_period AND kind = 'settle'), 0)::bigint AS pending_settled,
    COALESCE(SUM(amount) FILTER (WHERE in_period AND kind = 'void'), 0)::bigint AS pending_voided,
    COUNT(*) FILTER (WHERE in_period)::bigint AS entries,
    MAX(id) FILTER (WHERE created_at < $2::timestamptz) AS last_before_from,
    MAX(id) FILTER (WHERE created_at < $3::timestamptz) AS last_before_to
  FROM (SELECT *, (created_at >= $2::timestamptz AND created_at < $3::timestamptz) AS in_period, ${CATEGORY} AS category FROM sides) c
  GROUP BY resident_id
)
SELECT r.id AS resident_id, r.name, h.name AS household, b.name AS building, r.balance, r.pending_points,
  COALESCE(a.opening, 0)::text AS opening, COALESCE(a.opening_pending, 0)::text AS opening_pending,
  COALESCE(a.closing, 0)::text AS closing, COALESCE(a.closing_pending, 0)::text AS closing_pending,
  COALESCE(a.ledger_balance, 0)::text AS ledger_balance, COALESCE(a.ledger_pending, 0)::text AS ledger_pending,
  COALESCE(a.earned, 0)::text AS earned, COALESCE(a.redeemed, 0)::text AS redeemed,
  COALESCE(a.gifted_out, 0)::text AS gifted_out, COALESCE(a.gifted_in, 0)::text AS gifted_in,
  COALESCE(a.expired, 0)::text AS expired, COALESCE(a.adjustments, 0)::text AS adjustments,
  COALESCE(a.pending_added, 0)::text AS pending_added, COALESCE(a.pending_settled, 0)::text AS pending_settled,
  COALESCE(a.pending_voided, 0)::text AS pending_voided, COALESCE(a.entries, 0)::text AS entries,
  CASE WHEN ef.id IS NULL THEN NULL WHEN ef.credit_resident_id = r.id THEN ef.credit_balance_after ELSE ef.debit_balance_after END
    AS stored_opening,
  CASE WHEN et.id IS NULL THEN NULL WHEN et.credit_resident_id = r.id THEN et.credit_balance_after ELSE et.debit_balance_after END
    AS stored_closing
FROM resident r
LEFT JOIN agg a ON a.resident_id = r.id
LEFT JOIN ledger_entry ef ON ef.id = a.last_before_from
LEFT JOIN ledger_entry et ON et.id = a.last_before_to
LEFT JOIN household h ON h.id = r.household_id
LEFT JOIN building b ON b.id = h.building_id
WHERE r.community_id = $1::uuid
ORDER BY r.name, r.id`;

/** $1 community, $2 from, $3 to: the community's device events received in the period, by result and reason. */
export const EVENT_COUNTS = `
SELECT ev.result::text AS result, ev.reason, COUNT(*)::text AS count, COALESCE(SUM(ev.points), 0)::text AS points
FROM device_event ev
JOIN device d ON d.id = ev.device_id
WHERE d.community_id = $1::uuid AND ev.received_at >= $2::timestamptz AND ev.received_at < $3::timestamptz
GROUP BY ev.result, ev.reason
ORDER BY ev.result, ev.reason NULLS FIRST`;

/** $1 resident. */
export const RESIDENT = `
SELECT r.id, r.community_id, r.name, r.balance, r.pending_points, h.name AS household, b.name AS building
FROM resident r LEFT JOIN household h ON h.id = r.household_id LEFT JOIN building b ON b.id = h.building_id
WHERE r.id = $1::uuid`;

/** One resident's sides before $2 (key lookups on the resident indexes): opening balance and pending points. */
export const RESIDENT_OPENING = `
WITH mine AS (
  SELECT * FROM ledger_entry WHERE debit_resident_id = $1::uuid AND created_at < $2::timestamptz
  UNION ALL
  SELECT * FROM ledger_entry WHERE credit_resident_id = $1::uuid AND created_at < $2::timestamptz
), sides AS (${sidesOf('mine')})
SELECT COALESCE(SUM(${BALANCE_DELTA}) FILTER (WHERE resident_id = $1::uuid), 0)::text AS balance,
       COALESCE(SUM(${PENDING_DELTA}) FILTER (WHERE resident_id = $1::uuid), 0)::text AS pending
FROM sides`;

/** One resident's sides in [$2, $3), in ledger order. */
export const RESIDENT_PERIOD = `
WITH mine AS (
  SELECT * FROM ledger_entry WHERE debit_resident_id = $1::uuid AND created_at >= $2::timestamptz AND created_at < $3::timestamptz
  UNION ALL
  SELECT * FROM ledger_entry WHERE credit_resident_id = $1::uuid AND created_at >= $2::timestamptz AND created_at < $3::timestamptz
   
), sides AS (${sidesOf('mine')})
SELECT s.id::text AS id, s.kind, s.source, s.dir, s.amount, s.other, s.balance_after, s.created_at, e.reason,
       e.pending_entry_id::text AS pending_entry_id, e.reverses_entry_id::text AS reverses_entry_id
FROM sides s JOIN ledger_entry e ON e.id = s.id
WHERE s.resident_id = $1::uuid
ORDER BY s.id`;

/**
 * $1 community, $2 from, $3 to, $4 limit. Points earned in the period per
 * resident: credits from the issuance account (posted or settled), less
 * reversals that took points back to it. Ties: points desc, then id asc.
 */
const EARNED = `
WITH sides AS (${sidesOf(
  `(SELECT * FROM ledger_entry WHERE community_id = $1::uuid AND created_at >= $2::timestamptz AND created_at < $3::timestamptz
     AND kind IN ('posted', 'settle'))`,
)}),
earned AS (
  SELECT resident_id, SUM(dir * amount)::bigint AS points
  FROM sides
  WHERE other LIKE 'issuance:%' AND ((dir = 1 AND source <> 'reversal') OR (dir = -1 AND source = 'reversal'))
  GROUP BY resident_id
)`;

/**
 * The three boards in one pass over the period's entries (the points earned are
 * summed once, then ranked three ways), each as a JSON array in rank order.
 */
export const LEADERBOARDS = `${EARNED.replace('earned AS (', 'earned AS MATERIALIZED (')},
top_residents AS (
  SELECT r.id, r.name, h.name AS household, e.points
  FROM earned e JOIN resident r ON r.id = e.resident_id LEFT JOIN household h ON h.id = r.household_id
  WHERE e.points > 0
  ORDER BY e.points DESC, r.id ASC LIMIT $4::integer
), top_households AS (
  SELECT h.id, h.name, b.name AS building, SUM(e.points)::bigint AS points, COUNT(*)::integer AS residents
  FROM earned e JOIN resident r ON r.id = e.resident_id JOIN household h ON h.id = r.household_id LEFT JOIN building b ON b.id = h.building_id
  GROUP BY h.id, h.name, b.name
  HAVING SUM(e.points) > 0
  ORDER BY SUM(e.points) DESC, h.id ASC LIMIT $4::integer
), top_buildings AS (
  SELECT b.id, b.name, SUM(e.points)::bigint AS points, COUNT(*)::integer AS residents
  FROM earned e JOIN resident r ON r.id = e.resident_id JOIN household h ON h.id = r.household_id JOIN building b ON b.id = h.building_id
  GROUP BY b.id, b.name
  HAVING SUM(e.points) > 0
  ORDER BY SUM(e.points) DESC, b.id ASC LIMIT $4::integer
)
SELECT
  (SELECT COALESCE(json_agg(t ORDER BY t.points DESC, t.id), '[]'::json) FROM top_residents t) AS residents,
  (SELECT COALESCE(json_agg(t ORDER BY t.points DESC, t.id), '[]'::json) FROM top_households t) AS households,
  (SELECT COALESCE(json_agg(t ORDER BY t.points DESC, t.id), '[]'::json) FROM top_buildings t) AS buildings`;
