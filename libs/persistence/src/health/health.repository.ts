import { DomainError } from '../../../domain/src';
import type { Database } from '../database';
import { ALERT_COLUMNS, FLEET_COLUMNS, FLUSH_HEALTH_SQL, INSERT_STATUS_CHANGES_SQL, UPSERT_SAMPLES_SQL } from './health.sql';

/** A registered device with its last flushed health and its operations settings. */
export interface FleetDeviceRecord {
  id: string;
  kind: 'bin' | 'terminal' | 'counter';
  communityId: string;
  label: string | null;
  isActive: boolean;
  site: string | null;
  heartbeatSeconds: number | null;
  alertRules: Record<string, unknown>;
  state: 'online' | 'offline' | 'unknown';
  stateChangedAt: Date | null;
  lastSeenAt: Date | null;
  lastTelemetry: Record<string, unknown> | null;
  lastTelemetryAt: Date | null;
  stats: Record<string, unknown>;
}

/** What one flush writes for a device: the health half of its fleet record. */
export type HealthSnapshotRow = { deviceId: string } & Pick<
  FleetDeviceRecord,
  'state' | 'stateChangedAt' | 'lastSeenAt' | 'lastTelemetry' | 'lastTelemetryAt' | 'stats'
>;

export interface StatusChangeRecord {
  deviceId: string;
  state: 'online' | 'offline';
  reason: string;
  at: Date;
}

export interface TelemetrySampleRecord {
  deviceId: string;
  bucketAt: Date;
  readings: number;
  fillPercent: number | null;
  powerVolts: number | null;
  batteryPercent: number | null;
  temperatureC: number | null;
  rssiDbm: number | null;
  outboxDepth: number | null;
}

/** One flush of the in-memory health: written in one transaction. */
export interface HealthFlush {
  snapshots: HealthSnapshotRow[];
  statusChanges: StatusChangeRecord[];
  samples: TelemetrySampleRecord[];
}

export type AlertStatus = 'open' | 'acknowledged' | 'resolved';

export interface AlertRecord {
  id: string;
  /** The device id, or for authentication failures the client id or address (`address:10.0.0.9`). */
  subject: string;
  deviceId: string | null;
  cause: string;
  severity: 'warning' | 'critical';
  status: AlertStatus;
  value: number | null;
  message: string;
  openedAt: Date;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
}

export interface AlertOpenInput {
  subject: string;
  deviceId: string | null;
  cause: string;
  severity: 'warning' | 'critical';
  value: number | null;
  message: string;
  at: Date;
}

export interface AlertFilter {
  /** 'unresolved' = open or acknowledged. */
  status?: AlertStatus | 'unresolved' | undefined;
  deviceId?: string | undefined;
  cause?: string | undefined;
  communityId?: string | undefined;
  limit?: number | undefined;
}

export interface WebhookRecord {
  id: string;
  url: string;
  hasSecret: boolean;
  secret: string | null;
  description: string | null;
  createdBy: string;
  createdAt: Date;
}

type Row = Record<string, unknown>;
const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const json = (v: unknown) =>
  typeof v === 'string' ? (JSON.parse(v) as Record<string, unknown>) : ((v ?? null) as Record<string, unknown> | null);

const toFleet = (r: Row): FleetDeviceRecord => ({
  id: r['id'] as string,
  kind: r['kind'] as FleetDeviceRecord['kind'],
  communityId: r['community_id'] as string,
  label: (r['label'] as string | null) ?? null,
  isActive: r['is_active'] === true || r['is_active'] === 't',
  site: (r['site'] as string | null) ?? null,
  heartbeatSeconds: num(r['heartbeat_seconds']),
  alertRules: json(r['alert_rules']) ?? {},
  state: r['state'] as FleetDeviceRecord['state'],
  stateChangedAt: date(r['state_changed_at']),
  lastSeenAt: date(r['last_seen_at']),
  lastTelemetry: json(r['last_telemetry']),
  lastTelemetryAt: date(r['last_telemetry_at']),
  stats: json(r['stats']) ?? {},
});

const toAlert = (r: Row): AlertRecord => ({
  id: r['id'] as string,
  subject: r['subject'] as string,
  deviceId: (r['device_id'] as string | null) ?? null,
  cause: r['cause'] as string,
  severity: r['severity'] as AlertRecord['severity'],
  status: r['status'] as AlertStatus,
  value: num(r['value']),
  message: r['message'] as string,
  openedAt: new Date(r['opened_at'] as string),
  acknowledgedAt: date(r['acknowledged_at']),
  acknowledgedBy: (r['acknowledged_by'] as string | null) ?? null,
  resolvedAt: date(r['resolved_at']),
  resolvedBy: (r['resolved_by'] as string | null) ?? null,
});

const toSample = (r: Row): TelemetrySampleRecord => ({
  deviceId: r['device_id'] as string,
  bucketAt: new Date(r['bucket_at'] as string),
  readings: Number(r['readings']),
  fillPercent: num(r['fill_percent']),
  powerVolts: num(r['power_volts']),
  batteryPercent: num(r['battery_percent']),
  temperatureC: num(r['temperature_c']),
  rssiDbm: num(r['rssi_dbm']),
  outboxDepth: num(r['outbox_depth']),
});

const toWebhook = (r: Row): WebhookRecord => ({
  id: r['id'] as string,
  url: r['url'] as string,
  hasSecret: r['secret'] !== null,
  secret: (r['secret'] as string | null) ?? null,
  description: (r['description'] as string | null) ?? null,
  createdBy: r['created_by'] as string,
  createdAt: new Date(r['created_at'] as string),
});

/**
 * Device health, alerts and webhook endpoints (issue #6). Health is written by
 * the gateway's periodic flush only (never per message); alerts by the alert
 * engine and the operators' acknowledge/resolve.
 */
export class HealthRepository {
  constructor(private readonly db: Database) {}

  async fleet(
    filter: { communityId?: string | undefined; site?: string | undefined; kind?: string | undefined } = {},
  ): Promise<FleetDeviceRecord[]> {
    const rows = await this.db.transaction(
      (query) =>
        query<Row>(
          `SELECT ${FLEET_COLUMNS}
             FROM device d LEFT JOIN device_health h ON h.device_id = d.id
            WHERE ($1 = '' OR d.community_id::text = $1) AND ($2 = '' OR h.site = $2) AND ($3 = '' OR d.kind::text = $3)
            ORDER BY d.id`,
          [filter.communityId ?? '', filter.site ?? '', filter.kind ?? ''],
        ),
      { scans: true },
    );
    return rows.map(toFleet);
  }

  async fleetDevice(deviceId: string): Promise<FleetDeviceRecord | null> {
    const rows = await this.db.transaction((query) =>
      query<Row>(`SELECT ${FLEET_COLUMNS} FROM device d LEFT JOIN device_health h ON h.device_id = d.id WHERE d.id = $1`, [deviceId]),
    );
    return rows[0] ? toFleet(rows[0]) : null;
  }

  /** Site, heartbeat and alert rule overrides; a field left out keeps its value, null clears it. */
  async updateSettings(
    deviceId: string,
    patch: {
      site?: string | null | undefined;
      heartbeatSeconds?: number | null | undefined;
      alertRules?: Record<string, unknown> | undefined;
    },
  ): Promise<FleetDeviceRecord> {
    const current = await this.fleetDevice(deviceId);
    if (!current) throw new DomainError('not-found', `没有设备 ${deviceId} / no device ${deviceId}`);
    const site = patch.site === undefined ? current.site : patch.site;
    const heartbeat = patch.heartbeatSeconds === undefined ? current.heartbeatSeconds : patch.heartbeatSeconds;
    const rules = patch.alertRules ?? current.alertRules;
    await this.db.transaction((query) =>
      query(
        `INSERT INTO device_health (device_id, site, heartbeat_seconds, alert_rules)
         VALUES ($1, NULLIF($2, ''), NULLIF($3, '')::int, $4::jsonb)
         ON CONFLICT (device_id) DO UPDATE SET site = EXCLUDED.site, heartbeat_seconds = EXCLUDED.heartbeat_seconds, alert_rules = EXCLUDED.alert_rules`,
        [deviceId, site ?? '', heartbeat === null ? '' : String(heartbeat), JSON.stringify(rules)],
      ),
    );
    return (await this.fleetDevice(deviceId))!;
  }

  /** One transaction for a whole flush: snapshots, status changes and telemetry buckets. */
  async flush(batch: HealthFlush): Promise<void> {
    if (batch.snapshots.length + batch.statusChanges.length + batch.samples.length === 0) return;
    await this.db.transaction(async (query) => {
      if (batch.snapshots.length > 0) await query(FLUSH_HEALTH_SQL, [JSON.stringify(batch.snapshots.map(snakeSnapshot))]);
      if (batch.statusChanges.length > 0) {
        await query(INSERT_STATUS_CHANGES_SQL, [
          JSON.stringify(batch.statusChanges.map((c) => ({ device_id: c.deviceId, state: c.state, reason: c.reason, at: c.at }))),
        ]);
      }
      if (batch.samples.length > 0) await query(UPSERT_SAMPLES_SQL, [JSON.stringify(batch.samples.map(snakeSample))]);
    });
  }

  /** Newest first. */
  async statusHistory(deviceId: string, limit = 100): Promise<StatusChangeRecord[]> {
    const rows = await this.db.transaction((query) =>
      query<Row>(
        `SELECT device_id, state, reason, at FROM device_status_change WHERE device_id = $1 ORDER BY at DESC, id DESC LIMIT $2::int`,
        [deviceId, String(limit)],
      ),
    );
    return rows.map((r) => ({
      deviceId: r['device_id'] as string,
      state: r['state'] as 'online' | 'offline',
      reason: r['reason'] as string,
      at: new Date(r['at'] as string),
    }));
  }

  /** Oldest first, from `since` on. */
  async telemetrySamples(deviceId: string, since: Date): Promise<TelemetrySampleRecord[]> {
    const rows = await this.db.transaction((query) =>
      query<Row>(`SELECT * FROM device_telemetry_sample WHERE device_id = $1 AND bucket_at >= $2::timestamptz ORDER BY bucket_at`, [
        deviceId,
        since.toISOString(),
      ]),
    );
    return rows.map(toSample);
  }

  /** Drops telemetry buckets older than `before`; returns how many. */
  async pruneTelemetry(before: Date): Promise<number> {
    const rows = await this.db.transaction(
      (query) =>
        query<{ n: string }>(
          `WITH gone AS (DELETE FROM device_telemetry_sample WHERE bucket_at < $1::timestamptz RETURNING 1) SELECT count(*)::text AS n FROM gone`,
          [before.toISOString()],
        ),
      { scans: true },
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Open and acknowledged alerts: what the alert engine starts from. */
  async unresolvedAlerts(): Promise<AlertRecord[]> {
    return this.alerts({ status: 'unresolved', limit: 100_000 });
  }

  /** Opens an alert; null when one for the subject and cause is already unresolved. */
  async openAlert(input: AlertOpenInput): Promise<AlertRecord | null> {
    const rows = await this.db.transaction((query) =>
      query<Row>(
        `INSERT INTO device_alert AS a (subject, device_id, cause, severity, value, message, opened_at)
         VALUES ($1, NULLIF($2, ''), $3, $4, NULLIF($5, '')::float8, $6, $7::timestamptz)
         ON CONFLICT (subject, cause) WHERE status <> 'resolved' DO NOTHING
         RETURNING ${ALERT_COLUMNS}`,
        [
          input.subject,
          input.deviceId ?? '',
          input.cause,
          input.severity,
          input.value === null ? '' : String(input.value),
          input.message,
          input.at.toISOString(),
        ],
      ),
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  /** The condition went away: resolves the unresolved alert of the subject and cause, if any. */
  async clearAlert(subject: string, cause: string, at: Date, by: string): Promise<AlertRecord | null> {
    const rows = await this.db.transaction((query) =>
      query<Row>(
        `UPDATE device_alert AS a SET status = 'resolved', resolved_at = GREATEST(opened_at, $3::timestamptz), resolved_by = $4
          WHERE subject = $1 AND cause = $2 AND status <> 'resolved'
          RETURNING ${ALERT_COLUMNS}`,
        [subject, cause, at.toISOString(), by],
      ),
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  async alert(id: string): Promise<AlertRecord | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    const rows = await this.db.transaction((query) =>
      query<Row>(`SELECT ${ALERT_COLUMNS} FROM device_alert a WHERE a.id = $1::bigint`, [id]),
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  /** An operator has seen it: open -> acknowledged. */
  async acknowledgeAlert(id: string, by: string, at: Date): Promise<AlertRecord> {
    return this.transition(
      id,
      `status = 'acknowledged', acknowledged_at = $2::timestamptz, acknowledged_by = $3`,
      `status = 'open'`,
      by,
      at,
    );
  }

  /** An operator closes it (open or acknowledged -> resolved). */
  async resolveAlert(id: string, by: string, at: Date): Promise<AlertRecord> {
    return this.transition(
      id,
      `status = 'resolved', resolved_at = GREATEST(opened_at, $2::timestamptz), resolved_by = $3`,
      `status <> 'resolved'`,
      by,
      at,
    );
  }

  private async transition(id: string, set: string, when: string, by: string, at: Date): Promise<AlertRecord> {
    const existing = await this.alert(id);
    if (!existing) throw new DomainError('not-found', `没有告警 ${id} / no alert ${id}`);
    const rows = await this.db.transaction((query) =>
      query<Row>(`UPDATE device_alert AS a SET ${set} WHERE a.id = $1::bigint AND ${when} RETURNING ${ALERT_COLUMNS}`, [
        id,
        at.toISOString(),
        by,
      ]),
    );
    if (!rows[0]) {
      const now = await this.alert(id);
      throw new DomainError('already-closed', `告警 ${id} 已是 ${now?.status} 状态 / alert ${id} is already ${now?.status}`, {
        status: now?.status,
      });
    }
    return toAlert(rows[0]);
  }

  /** Newest first. */
  async alerts(filter: AlertFilter = {}): Promise<AlertRecord[]> {
    const status = filter.status ?? '';
    const rows = await this.db.transaction(
      (query) =>
        query<Row>(
          `SELECT ${ALERT_COLUMNS} FROM device_alert a LEFT JOIN device d ON d.id = a.device_id
            WHERE ($1 = '' OR ($1 = 'unresolved' AND a.status <> 'resolved') OR a.status = $1)
              AND ($2 = '' OR a.subject = $2 OR a.device_id = $2)
              AND ($3 = '' OR a.cause = $3)
              AND ($4 = '' OR d.community_id::text = $4)
            ORDER BY a.opened_at DESC, a.id DESC LIMIT $5::int`,
          [status, filter.deviceId ?? '', filter.cause ?? '', filter.communityId ?? '', String(filter.limit ?? 200)],
        ),
      { scans: true },
    );
    return rows.map(toAlert);
  }

  async webhooks(): Promise<WebhookRecord[]> {
    const rows = await this.db.transaction(
      (query) => query<Row>(`SELECT id::text AS id, url, secret, description, created_by, created_at FROM webhook_endpoint ORDER BY id`),
      { scans: true },
    );
    return rows.map(toWebhook);
  }

  async addWebhook(input: { url: string; secret: string | null; description: string | null; createdBy: string }): Promise<WebhookRecord> {
    const rows = await this.db.transaction((query) =>
      query<Row>(
        `INSERT INTO webhook_endpoint (url, secret, description, created_by) VALUES ($1, NULLIF($2, ''), NULLIF($3, ''), $4)
         RETURNING id::text AS id, url, secret, description, created_by, created_at`,
        [input.url, input.secret ?? '', input.description ?? '', input.createdBy],
      ),
    );
    return toWebhook(rows[0]!);
  }

  async removeWebhook(id: string): Promise<WebhookRecord> {
    const rows = /^\d{1,18}$/.test(id)
      ? await this.db.transaction((query) =>
          query<Row>(
            `DELETE FROM webhook_endpoint WHERE id = $1::bigint RETURNING id::text AS id, url, secret, description, created_by, created_at`,
            [id],
          ),
        )
      : [];
    if (!rows[0]) throw new DomainError('not-found', `没有回调地址 ${id} / no webhook ${id}`);
    return toWebhook(rows[0]);
  }
}

function snakeSnapshot(s: HealthSnapshotRow) {
  return {
    device_id: s.deviceId,
    state: s.state,
    state_changed_at: s.stateChangedAt,
    last_seen_at: s.lastSeenAt,
    last_telemetry: s.lastTelemetry,
    last_telemetry_at: s.lastTelemetryAt,
    stats: s.stats,
  };
}

function snakeSample(s: TelemetrySampleRecord) {
  return {
    device_id: s.deviceId,
    bucket_at: s.bucketAt,
    readings: s.readings,
    fill_percent: s.fillPercent,
    power_volts: s.powerVolts,
    battery_percent: s.batteryPercent,
    temperature_c: s.temperatureC,
    rssi_dbm: s.rssiDbm,
    outbox_depth: s.outboxDepth,
  };
}
