/**
 * The ingest hot path as hand-written SQL (shared/ARCHITECTURE.md: group commit;
 * Prisma's per-query overhead would dominate). Every statement takes JSON
 * array parameters and expands them with jsonb_to_recordset, so a whole batch is one
 * round trip per step, in SQL that PostgreSQL 15 and PGlite (18) both accept.
 */
import { ENTRY_COLUMNS, ENTRY_RECORD, entryValues, updateChainHeads, updateResidentPoints } from '../ledger/ledger.sql';

/**
 * The acks stored the first time, for repeats: looked up before judging; only
 * the events already stored come back (usually none, so a batch's answer is
 * empty, not a row per event). One unique-index probe per event by
 * construction: as a join, the plan PGlite prepared while the table was empty
 * (a hash join over a sequential scan) stayed in use and cost 8 ms per batch at
 * 50,000 events. OFFSET 0 keeps the probe in its subquery, run once per event.
 */
export const SELECT_STORED_ACKS = `
SELECT device_id, event_id, ack
FROM (
  SELECT v.device_id, v.event_id,
         (SELECT e.ack FROM device_event e WHERE e.device_id = v.device_id AND e.event_id = v.event_id) AS ack
  FROM jsonb_to_recordset($1::jsonb) AS v(device_id text, event_id text)
  OFFSET 0
) probed
WHERE ack IS NOT NULL`;

/**
 * Devices and their communities by id. A primary-key probe per id by construction
 * (lateral subqueries that OFFSET 0 keeps from being flattened): with
 * `id = ANY(ARRAY(...))`, the plan prepared while the table was empty read a whole
 * index of device with a filter, 30,000 entries a call once the table was full
 * (test/query-plans.e2e-spec.ts).
 */
export const SELECT_DEVICES = `
SELECT d.id, d.kind::text AS kind, d.community_id, d.is_active, c.deposit_points_per_unit, c.timezone
FROM jsonb_array_elements_text($1::jsonb) AS k(id)
CROSS JOIN LATERAL (SELECT * FROM device d WHERE d.id = k.id OFFSET 0) d
CROSS JOIN LATERAL (SELECT * FROM community c WHERE c.id = d.community_id OFFSET 0) c`;

/** Points rules versions of communities, oldest first. $1: community ids. */
export const SELECT_RULES = `
SELECT community_id, version, effective_from, rules
FROM points_rule
WHERE community_id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::uuid))
ORDER BY community_id, version`;

/** Writes RunningTallies.rows() (whole cells, not increments): the residents' rows are locked. */
export function upsertTallies(param: string): string {
  return `
  INSERT INTO deposit_tally (resident_id, period, period_start, points, batteries)
  SELECT resident_id, period, period_start, points, batteries
  FROM jsonb_to_recordset(${param}::jsonb) AS t(resident_id uuid, period text, period_start date, points integer, batteries integer)
  ON CONFLICT (resident_id, period, period_start) DO UPDATE SET points = EXCLUDED.points, batteries = EXCLUDED.batteries`;
}

export const UPSERT_TALLIES = upsertTallies('$1');

/**
 * Deposit tallies by key; read after the residents are locked. $1: [{resident_id,
 * period, period_start}]. One primary-key probe per key by construction (a lateral
 * subquery that OFFSET 0 keeps from being flattened into a join): as a plain join,
 * the plan prepared on an empty table hashed a scan of the whole table, and kept
 * it as the table grew (test/query-plans.e2e-spec.ts).
 */
export const SELECT_TALLIES = `
SELECT k.resident_id, k.period, k.period_start::text AS period_start, t.points, t.batteries
FROM jsonb_to_recordset($1::jsonb) AS k(resident_id uuid, period text, period_start date)
CROSS JOIN LATERAL (
  SELECT t.points, t.batteries
  FROM deposit_tally t
  WHERE t.resident_id = k.resident_id AND t.period = k.period AND t.period_start = k.period_start
  OFFSET 0
) t`;

/**
 * Card holders with their balance rows locked in a fixed order (by id), so two
 * batches, or two replicas, never deadlock and never both spend one balance.
 * Written so that the plan PGlite prepares on empty tables is still key lookups
 * on full ones (test/query-plans.e2e-spec.ts): each card by its key, then the
 * residents by `id = ANY(array)`, which only an index scan answers cheaply.
 */
export const LOCK_CARD_HOLDERS = `
WITH holders AS MATERIALIZED (
  SELECT u.uid, (SELECT c.resident_id FROM card c WHERE c.uid = u.uid) AS resident_id
  FROM jsonb_array_elements_text($1::jsonb) AS u(uid)
)
SELECT h.uid, c.status::text AS card_status, r.id AS resident_id, r.community_id, r.name, r.balance, r.pending_points
FROM resident r JOIN holders h ON h.resident_id = r.id JOIN card c ON c.uid = h.uid
WHERE r.id = ANY (ARRAY(SELECT resident_id FROM holders WHERE resident_id IS NOT NULL))
ORDER BY r.id
FOR UPDATE OF r`;

/**
 * All writes of a batch in one statement (ARCHITECTURE.md measured one CTE per
 * batch at about twice the rate of separate statements): store each judged event
 * with its outcome and ack, append the sealed ledger entries of the credits
 * (linked to their stored event), set the residents' new points and the chain
 * heads. Answers how many events were stored: fewer than sent means another
 * replica committed one of them after this batch looked, and the caller rolls
 * back and retries (the retry then finds its stored ack).
 *
 * $1: events with their outcome; $2: sealed ledger entries with the device_id and
 * event_id of their event; $3: residents' new points; $4: chain heads; $5: the
 * residents' deposit tallies (absolute, per local day and month).
 */
export const WRITE_BATCH = `
WITH v AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(
    device_id text, event_id text, seq bigint, type text, card_uid text, resident_id uuid, payload jsonb,
    occurred_at timestamptz, received_at timestamptz, is_clock_ahead boolean, result text, reason text,
    points integer, ack text, rule_version integer, flags text[])
), stored AS (
  INSERT INTO device_event (device_id, event_id, seq, type, card_uid, resident_id, payload, occurred_at, received_at,
                            is_clock_ahead, result, reason, points, ack, rule_version, flags)
  SELECT device_id, event_id, seq, type, card_uid, resident_id, payload, occurred_at, received_at,
         is_clock_ahead, result::event_result, reason, points, ack, rule_version, flags
  FROM v
  ON CONFLICT (device_id, event_id) DO NOTHING
  RETURNING id, device_id, event_id
), posted AS (
  INSERT INTO ledger_entry (${ENTRY_COLUMNS})
  SELECT ${entryValues('l').replace('l.device_event_id', 'stored.id')}
  FROM jsonb_to_recordset($2::jsonb) AS l(${ENTRY_RECORD}, device_id text, event_id text)
  JOIN stored ON stored.device_id = l.device_id AND stored.event_id = l.event_id
  RETURNING 1
), balanced AS (${updateResidentPoints('$3')}
), chained AS (${updateChainHeads('$4')}
), tallied AS (${upsertTallies('$5')}
  RETURNING 1
)
SELECT (SELECT count(*) FROM stored)::integer AS stored,
       (SELECT count(*) FROM posted)::integer AS posted,
       (SELECT count(*) FROM balanced)::integer AS balanced,
       (SELECT count(*) FROM chained)::integer AS chained`;
