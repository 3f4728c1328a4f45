/**
 * Hand-written SQL of device health (issue #6). Batches arrive as one JSON
 * parameter (the embedded driver takes text parameters only) and are unpacked
 * with jsonb_to_recordset; rows of devices not in the registry are skipped by
 * the join, never half-written.
 */

export const FLUSH_HEALTH_SQL = `
INSERT INTO device_health (device_id, state, state_changed_at, last_seen_at, last_telemetry, last_telemetry_at, stats, flushed_at)
SELECT r.device_id, r.state, r.state_changed_at, r.last_seen_at, r.last_telemetry, r.last_telemetry_at, COALESCE(r.stats, '{}'::jsonb), now()
  FROM jsonb_to_recordset($1::jsonb) AS r(device_id text, state text, state_changed_at timestamptz, last_seen_at timestamptz,
                                        last_telemetry jsonb, last_telemetry_at timestamptz, stats jsonb)
  JOIN device d ON d.id = r.device_id
ON CONFLICT (device_id) DO UPDATE SET
  state = EXCLUDED.state,
  state_changed_at = EXCLUDED.state_changed_at,
  last_seen_at = GREATEST(device_health.last_seen_at, EXCLUDED.last_seen_at),
  last_telemetry = CASE
    WHEN EXCLUDED.last_telemetry_at IS NOT NULL
     AND (device_health.last_telemetry_at IS NULL OR EXCLUDED.last_telemetry_at >= device_health.last_telemetry_at)
    THEN EXCLUDED.last_telemetry ELSE device_health.last_telemetry END,
  last_telemetry_at = GREATEST(device_health.last_telemetry_at, EXCLUDED.last_telemetry_at),
  stats = EXCLUDED.stats,
  flushed_at = now()`;

export const INSERT_STATUS_CHANGES_SQL = `
INSERT INTO device_status_change (device_id, state, reason, at)
SELECT r.device_id, r.state, r.reason, r.at
  FROM jsonb_to_recordset($1::jsonb) AS r(device_id text, state text, reason text, at timestamptz)
  JOIN device d ON d.id = r.device_id
 ORDER BY r.at`;

/** A bucket is written whole each time (the memory holds its running averages). */
export const UPSERT_SAMPLES_SQL = `
INSERT INTO device_telemetry_sample (device_id, bucket_at, readings, fill_percent, power_volts, battery_percent, temperature_c, rssi_dbm, outbox_depth)
SELECT r.device_id, r.bucket_at, r.readings, r.fill_percent, r.power_volts, r.battery_percent, r.temperature_c, r.rssi_dbm, r.outbox_depth
  FROM jsonb_to_recordset($1::jsonb) AS r(device_id text, bucket_at timestamptz, readings int, fill_percent float8, power_volts float8,
                                        battery_percent float8, temperature_c float8, rssi_dbm float8, outbox_depth float8)
  JOIN device d ON d.id = r.device_id
ON CONFLICT (device_id, bucket_at) DO UPDATE SET
  readings = EXCLUDED.readings, fill_percent = EXCLUDED.fill_percent, power_volts = EXCLUDED.power_volts,
  battery_percent = EXCLUDED.battery_percent, temperature_c = EXCLUDED.temperature_c, rssi_dbm = EXCLUDED.rssi_dbm,
  outbox_depth = EXCLUDED.outbox_depth`;

export const FLEET_COLUMNS = `
  d.id, d.kind::text AS kind, d.community_id::text AS community_id, d.label, d.is_active,
  h.site, h.heartbeat_seconds, COALESCE(h.alert_rules, '{}'::jsonb) AS alert_rules, COALESCE(h.state, 'unknown') AS state,
  h.state_changed_at, h.last_seen_at, h.last_telemetry, h.last_telemetry_at, COALESCE(h.stats, '{}'::jsonb) AS stats`;

export const ALERT_COLUMNS = `
  a.id::text AS id, a.subject, a.device_id, a.cause, a.severity, a.status, a.value, a.message, a.opened_at,
  a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by`;
