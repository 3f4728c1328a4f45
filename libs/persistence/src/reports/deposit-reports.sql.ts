/**
 * The battery deposit reports' SQL. Everything is aggregated in PostgreSQL
 * (GROUP BY period, bin, reason; jsonb_array_elements for a deposit's items):
 * only one row per group crosses into Node, whatever the number of events.
 * Parameters are text and cast here (the embedded database PREPAREs each
 * statement and passes literals).
 *
 * Counted ("accepted") deposits: type 'deposit' with result credited or pending
 * (the batteries are in the bin, even when the card was unknown or the points
 * await review). Rejected deposits are counted apart, by reason. A deposit
 * belongs to the day / month of its occurred_at in the community's time zone;
 * a rejected one without occurred_at (an invalid event) to its received_at.
 */

/**
 * A period bound as text: a bare date `YYYY-MM-DD` is local midnight in the
 * time zone `tz` (an SQL expression); anything else is an ISO instant.
 */
const bound = (param: string, tz: string) =>
  `(CASE WHEN length(${param}) = 10 THEN (${param}::date::timestamp AT TIME ZONE ${tz}) ELSE ${param}::timestamptz END)`;

/** The battery kinds of the protocol, each a column; an unknown kind would count as 'other'. */
export const KIND_COLUMNS = ['alkaline', 'lithium', 'button', 'rechargeable', 'other'] as const;

/** A number from a jsonb value, or NULL when it is not a number. */
const jsonNumber = (expr: string) => `CASE WHEN jsonb_typeof(${expr}) = 'number' THEN (${expr})::text::numeric END`;

/**
 * The communities in scope with their resolved period. $1 community id or ''
 * (every community), $2 from, $3 to.
 */
const SCOPE = `
scope AS (
  SELECT c.id, c.name, c.timezone, ${bound('$2', 'c.timezone')} AS t_from, ${bound('$3', 'c.timezone')} AS t_to
  FROM community c
  WHERE $1 = '' OR c.id = NULLIF($1, '')::uuid
)`;

/**
 * The scope's deposits of the period, one row each, with its items summed per
 * kind (a lateral aggregate over jsonb_array_elements), its weight in grams
 * (NULL without one) and its local day and month. Accepted and rejected alike;
 * the queries below filter.
 */
const DEPOSITS = `
deposits AS (
  SELECT e.device_id, d.label AS device_label, s.id AS community_id, e.result::text AS result, e.reason, e.points,
         e.claimed_at IS NOT NULL AS claimed,
         ${jsonNumber(`e.payload -> 'weightGrams'`)} AS grams,
         to_char(COALESCE(e.occurred_at, e.received_at) AT TIME ZONE s.timezone, 'YYYY-MM-DD') AS day,
         to_char(COALESCE(e.occurred_at, e.received_at) AT TIME ZONE s.timezone, 'YYYY-MM') AS month,
         it.*
  FROM scope s
  JOIN device d ON d.community_id = s.id
  JOIN device_event e ON e.device_id = d.id
  CROSS JOIN LATERAL (
    SELECT COALESCE(SUM(n), 0)::bigint AS batteries,
           ${KIND_COLUMNS.map((k) =>
             k === 'other'
               ? `COALESCE(SUM(n) FILTER (WHERE kind IS NULL OR kind NOT IN (${KIND_COLUMNS.filter((x) => x !== 'other')
                   .map((x) => `'${x}'`)
                   .join(', ')})), 0)::bigint AS other`
               : `COALESCE(SUM(n) FILTER (WHERE kind = '${k}'), 0)::bigint AS ${k}`,
           ).join(',\n           ')}
    FROM (
      SELECT i ->> 'kind' AS kind, ${jsonNumber(`i -> 'count'`)} AS n
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e.payload -> 'items') = 'array' THEN e.payload -> 'items' ELSE '[]'::jsonb END) i
    ) items
  ) it
  WHERE e.type = 'deposit'
    AND COALESCE(e.occurred_at, e.received_at) >= s.t_from AND COALESCE(e.occurred_at, e.received_at) < s.t_to
)`;

/** The sums of a group of accepted deposits, as text (bigint and numeric exceed JS safely only as text). */
const SUMS = `
  COUNT(*)::text AS deposits,
  SUM(batteries)::text AS batteries,
  ${KIND_COLUMNS.map((k) => `SUM(${k})::text AS ${k}`).join(', ')},
  COALESCE(SUM(grams), 0)::text AS grams,
  COUNT(*) FILTER (WHERE grams IS NULL)::text AS without_weight,
  COALESCE(SUM(points) FILTER (WHERE result = 'credited' OR claimed), 0)::text AS points_issued,
  COALESCE(SUM(points) FILTER (WHERE result = 'pending' AND NOT claimed), 0)::text AS points_pending`;

const ACCEPTED = `result IN ('credited', 'pending')`;

/** $1 community, $2 from, $3 to: the community and its resolved period (no row: no such community). */
export const COMMUNITY_PERIOD = `
WITH ${SCOPE}
SELECT id, name, timezone, t_from, t_to FROM scope`;

/** $1 community, $2 from, $3 to, $4 'day' | 'month': accepted deposits per local period. */
export const BY_PERIOD = `
WITH ${SCOPE}, ${DEPOSITS}
SELECT CASE WHEN $4 = 'month' THEN month ELSE day END AS period, ${SUMS}
FROM deposits WHERE ${ACCEPTED}
GROUP BY 1 ORDER BY 1`;

/** $1 community, $2 from, $3 to, $4 'day' | 'month': accepted deposits per local period and bin. */
export const BY_PERIOD_AND_BIN = `
WITH ${SCOPE}, ${DEPOSITS}
SELECT CASE WHEN $4 = 'month' THEN month ELSE day END AS period, device_id, device_label, ${SUMS}
FROM deposits WHERE ${ACCEPTED}
GROUP BY 1, device_id, device_label ORDER BY 1, device_id`;

/** $1 community or '' (the district), $2 from, $3 to: accepted deposits in total, with how many communities and bins had any. */
export const TOTAL = `
WITH ${SCOPE}, ${DEPOSITS}
SELECT ${SUMS}, COUNT(DISTINCT community_id)::text AS communities, COUNT(DISTINCT device_id)::text AS bins
FROM deposits WHERE ${ACCEPTED}`;

/** $1 community or '', $2 from, $3 to: rejected deposits by reason (an invalid one placed by its received_at). */
export const REJECTED = `
WITH ${SCOPE}, ${DEPOSITS}
SELECT COALESCE(reason, '') AS reason, COUNT(*)::text AS deposits, SUM(batteries)::text AS batteries
FROM deposits WHERE result = 'rejected'
GROUP BY 1 ORDER BY 1`;
