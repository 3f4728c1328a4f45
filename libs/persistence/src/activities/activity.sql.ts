/**
 * Check-in SQL: the ingest hot path's (one statement per step per batch, JSON
 * array parameters) and the staff side's. PostgreSQL 15 and PGlite (18) both
 * accept all of it.
 */

/** The activity columns an ActivityRule is built from (activityRuleOf). */
export const ACTIVITY_COLUMNS = `a.id, a.community_id, a.site_id, a.category_code, a.recurrence_id, a.title, a.starts_at, a.ends_at,
  a.opens_before_minutes, a.closes_after_minutes, a.check_out_grace_minutes, a.capacity, a.policy, a.requires_review,
  a.auto_close, a.debounce_seconds, a.is_cancelled, a.closed_at, a.created_at`;

/** The site of each terminal that has one. $1: device ids. */
export const SELECT_TERMINAL_SITES = `
SELECT device_id, site_id FROM terminal_site
WHERE device_id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))`;

/**
 * The activities of these sites that a tap received now could concern: those
 * ending after $2 (now minus the lateness allowed, minus the check-out grace) and
 * starting before $3 (a day ahead, so the cache serves until then).
 */
export const SELECT_SITE_ACTIVITIES = `
SELECT ${ACTIVITY_COLUMNS} FROM activity a
WHERE a.site_id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::uuid))
  AND NOT a.is_cancelled AND a.ends_at >= $2::timestamptz AND a.starts_at <= $3::timestamptz
ORDER BY a.site_id, a.starts_at`;

export const SELECT_ACTIVITIES_BY_ID = `
SELECT ${ACTIVITY_COLUMNS} FROM activity a WHERE a.id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::uuid))`;

export const ATTENDANCE_COLUMNS = `t.id, t.activity_id, t.resident_id, t.community_id, t.site_id, t.status, t.first_tap_at, t.last_tap_at,
  t.checked_out_at, t.minutes, t.points, t.taps, t.requires_review, t.sources, t.created_at, t.updated_at`;

/**
 * The residents' attendances at these activities, and any still `in` elsewhere
 * (the two-sites rule). Read after the residents' rows are locked.
 * $1: resident ids, $2: activity ids.
 */
export const SELECT_RESIDENT_ATTENDANCE = `
SELECT ${ATTENDANCE_COLUMNS} FROM attendance t
WHERE t.resident_id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::uuid))
  AND (t.activity_id = ANY (ARRAY(SELECT (jsonb_array_elements_text($2::jsonb))::uuid)) OR t.status = 'in')`;

/**
 * Activities with a capacity, locked (in id order, after the residents) so that
 * two batches or replicas cannot both take the last place; with the places taken.
 */
export const LOCK_CAPACITY = `
SELECT a.id, (SELECT count(*) FROM attendance t WHERE t.activity_id = a.id AND t.status <> 'stray')::integer AS taken
FROM activity a
WHERE a.id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::uuid)) AND a.capacity IS NOT NULL
ORDER BY a.id
FOR UPDATE OF a`;

/** Writes attendances as judged (absolute values); sources are appended. $1: rows. */
export const UPSERT_ATTENDANCE = `
INSERT INTO attendance (id, activity_id, resident_id, community_id, site_id, status, first_tap_at, last_tap_at, checked_out_at,
                        minutes, points, taps, requires_review, sources, updated_at)
SELECT id, activity_id, resident_id, community_id, site_id, status, first_tap_at, last_tap_at, checked_out_at,
       minutes, points, taps, requires_review, sources, now()
FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, activity_id uuid, resident_id uuid, community_id uuid, site_id uuid, status text,
  first_tap_at timestamptz, last_tap_at timestamptz, checked_out_at timestamptz, minutes integer, points integer, taps integer,
  requires_review boolean, sources jsonb)
ON CONFLICT (id) DO UPDATE SET
  status = EXCLUDED.status, first_tap_at = EXCLUDED.first_tap_at, last_tap_at = EXCLUDED.last_tap_at,
  checked_out_at = EXCLUDED.checked_out_at, minutes = EXCLUDED.minutes, points = EXCLUDED.points, taps = EXCLUDED.taps,
  sources = attendance.sources || EXCLUDED.sources, updated_at = now()`;

export const SELECT_ACTIVITY = `SELECT ${ACTIVITY_COLUMNS} FROM activity a WHERE a.id = $1::uuid`;
export const LOCK_ACTIVITY = `${SELECT_ACTIVITY} FOR UPDATE`;
