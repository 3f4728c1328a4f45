/**
 * The ingest hot path as hand-written SQL (shared/ARCHITECTURE.md: group commit;
 * Prisma's per-query overhead would dominate). Every statement takes one JSON
 * array parameter and expands it with jsonb_to_recordset, so a whole batch is one
 * round trip per step, in SQL that PostgreSQL 15 and PGlite (18) both accept.
 */

/**
 * Store each judged event with its outcome and ack. A pair that is already
 * stored returns no row: that only happens when another replica committed the
 * same event after this batch looked (the caller then retries the batch).
 */
export const INSERT_EVENTS = `
INSERT INTO device_event (device_id, event_id, seq, type, card_uid, resident_id, payload, occurred_at, received_at,
                          is_clock_ahead, result, reason, points, ack)
SELECT v.device_id, v.event_id, v.seq, v.type, v.card_uid, v.resident_id, v.payload, v.occurred_at, v.received_at,
       v.is_clock_ahead, v.result::event_result, v.reason, v.points, v.ack
FROM jsonb_to_recordset($1::jsonb) AS v(
  device_id text, event_id text, seq bigint, type text, card_uid text, resident_id uuid, payload jsonb,
  occurred_at timestamptz, received_at timestamptz, is_clock_ahead boolean, result text, reason text, points integer, ack text)
ON CONFLICT (device_id, event_id) DO NOTHING
RETURNING id, device_id, event_id`;

/** The ack stored the first time, for repeats: looked up before judging. */
export const SELECT_STORED_ACKS = `
SELECT e.device_id, e.event_id, e.ack
FROM device_event e
JOIN jsonb_to_recordset($1::jsonb) AS v(device_id text, event_id text)
  ON e.device_id = v.device_id AND e.event_id = v.event_id`;

export const SELECT_DEVICES = `
SELECT d.id, d.kind::text AS kind, d.community_id, d.is_active, c.deposit_points_per_unit
FROM device d JOIN community c ON c.id = d.community_id
WHERE d.id IN (SELECT jsonb_array_elements_text($1::jsonb))`;

/**
 * Card holders with their balance rows locked in a fixed order (by id), so two
 * batches, or two replicas, never deadlock and never both spend one balance.
 */
export const LOCK_CARD_HOLDERS = `
SELECT c.uid, r.id AS resident_id, r.community_id, r.balance
FROM card c JOIN resident r ON r.id = c.resident_id
WHERE c.uid IN (SELECT jsonb_array_elements_text($1::jsonb))
ORDER BY r.id
FOR UPDATE OF r`;

export const INSERT_LEDGER_ENTRIES = `
INSERT INTO ledger_entry (community_id, resident_id, amount, balance_after, source, device_event_id, idempotency_key, actor)
SELECT v.community_id, v.resident_id, v.amount, v.balance_after, 'device_event', v.device_event_id, v.idempotency_key, v.actor
FROM jsonb_to_recordset($1::jsonb) AS v(
  community_id uuid, resident_id uuid, amount integer, balance_after integer,
  device_event_id bigint, idempotency_key text, actor text)`;

export const UPDATE_BALANCES = `
UPDATE resident r SET balance = v.balance
FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, balance integer)
WHERE r.id = v.id`;
