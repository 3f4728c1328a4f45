import { DomainError } from '../../../domain/src';
import type { Database, SqlQuery } from '../database';

/** Fill thresholds and weight tolerance of one bin (the defaults when never set). */
export interface BinSettingsRecord {
  deviceId: string;
  fillWarnPercent: number;
  fillFullPercent: number;
  weightTolerancePercent: number;
  updatedAt: Date | null;
  updatedBy: string | null;
}

export interface BinCollectionRecord {
  id: string;
  deviceId: string;
  collectedAt: Date;
  weightGrams: number;
  source: 'api' | 'event';
  deviceEventId: string | null;
  actor: string;
  note: string | null;
  createdAt: Date;
}

export interface DeviceFaultRecord {
  id: string;
  deviceId: string;
  code: string;
  startedAt: Date;
  clearedAt: Date | null;
}

export interface BinAlertRecord {
  id: string;
  deviceId: string;
  kind: 'fill-warn' | 'fill-full';
  value: number;
  openedAt: Date;
  resolvedAt: Date | null;
}

/** What one telemetry reading changed; written in one transaction. */
export interface BinTelemetryChanges {
  at: Date;
  faultsAppeared: string[];
  faultsCleared: string[];
  alertsOpened: { kind: 'fill-warn' | 'fill-full'; value: number }[];
  alertsResolved: ('fill-warn' | 'fill-full')[];
}

export interface BinReportInput {
  settings: BinSettingsRecord;
  collections: BinCollectionRecord[];
  deposits: { occurredAt: Date; weightGrams: number | null }[];
}

const DEFAULTS = { fillWarnPercent: 80, fillFullPercent: 95, weightTolerancePercent: 10 };

interface CollectionRow {
  id: string;
  device_id: string;
  collected_at: Date | string;
  weight_grams: number | string;
  source: 'api' | 'event';
  device_event_id: string | null;
  actor: string;
  note: string | null;
  created_at: Date | string;
}

const COLLECTION_COLUMNS = `id::text AS id, device_id, collected_at, weight_grams, source, device_event_id::text AS device_event_id, actor, note, created_at`;

const toCollection = (r: CollectionRow): BinCollectionRecord => ({
  id: r.id,
  deviceId: r.device_id,
  collectedAt: new Date(r.collected_at),
  weightGrams: Number(r.weight_grams),
  source: r.source,
  deviceEventId: r.device_event_id,
  actor: r.actor,
  note: r.note,
  createdAt: new Date(r.created_at),
});

/**
 * Collections reported by the bin itself (credited `collection` events) become
 * bin_collection rows the first time anyone looks, and resolve the fill alerts
 * that were open then. Idempotent: device_event_id is unique.
 */
async function syncEventCollections(query: SqlQuery, deviceId: string): Promise<void> {
  const added = await query<{ device_id: string; collected_at: Date | string }>(
    `INSERT INTO bin_collection (device_id, collected_at, weight_grams, source, device_event_id, actor)
     SELECT e.device_id, COALESCE(e.occurred_at, e.received_at), (e.payload->>'weightGrams')::float8, 'event', e.id, 'device:' || e.device_id
       FROM device_event e
      WHERE e.device_id = $1 AND e.type = 'collection' AND e.result = 'credited'
        AND NOT EXISTS (SELECT 1 FROM bin_collection c WHERE c.device_event_id = e.id)
     ON CONFLICT (device_event_id) DO NOTHING
     RETURNING device_id, collected_at`,
    [deviceId],
  );
  for (const row of added) await resolveAlertsAt(query, deviceId, new Date(row.collected_at));
}

async function resolveAlertsAt(query: SqlQuery, deviceId: string, at: Date): Promise<void> {
  await query(
    `UPDATE bin_alert SET resolved_at = GREATEST(opened_at, $2::timestamptz)
      WHERE device_id = $1 AND resolved_at IS NULL AND opened_at <= GREATEST($2::timestamptz, now())`,
    [deviceId, at.toISOString()],
  );
}

// Hand-written SQL runs on db.transaction, whose embedded driver takes text parameters only.

/**
 * The bin's life (issue #4): settings, collections, faults and fill alerts. Telemetry
 * writes come from the BinWatcher only when something changed.
 */
export class BinRepository {
  constructor(private readonly db: Database) {}

  async settings(deviceId: string): Promise<BinSettingsRecord> {
    const row = await this.db.prisma.binSettings.findUnique({ where: { deviceId } });
    if (!row) return { deviceId, ...DEFAULTS, updatedAt: null, updatedBy: null };
    return {
      deviceId,
      fillWarnPercent: row.fillWarnPercent,
      fillFullPercent: row.fillFullPercent,
      weightTolerancePercent: row.weightTolerancePercent,
      updatedAt: row.updatedAt,
      updatedBy: row.updatedBy,
    };
  }

  async updateSettings(
    deviceId: string,
    patch: { fillWarnPercent?: number | undefined; fillFullPercent?: number | undefined; weightTolerancePercent?: number | undefined },
    actor: string,
  ): Promise<BinSettingsRecord> {
    const current = await this.settings(deviceId);
    const next = {
      fillWarnPercent: patch.fillWarnPercent ?? current.fillWarnPercent,
      fillFullPercent: patch.fillFullPercent ?? current.fillFullPercent,
      weightTolerancePercent: patch.weightTolerancePercent ?? current.weightTolerancePercent,
    };
    if (next.fillWarnPercent >= next.fillFullPercent) {
      throw new DomainError(
        'validation-failed',
        `fillWarnPercent (${next.fillWarnPercent}) must be below fillFullPercent (${next.fillFullPercent})`,
      );
    }
    await this.db.prisma.binSettings.upsert({
      where: { deviceId },
      create: { deviceId, ...next, updatedBy: actor },
      update: { ...next, updatedAt: new Date(), updatedBy: actor },
    });
    return this.settings(deviceId);
  }

  /** The open fault codes and fill alerts: what the BinWatcher starts from for a device. */
  async openState(deviceId: string): Promise<{ faults: string[]; alerts: ('fill-warn' | 'fill-full')[] }> {
    return this.db.transaction(async (query) => {
      const faults = await query<{ code: string }>(
        `SELECT code FROM device_fault WHERE device_id = $1 AND cleared_at IS NULL ORDER BY code`,
        [deviceId],
      );
      const alerts = await query<{ kind: 'fill-warn' | 'fill-full' }>(
        `SELECT kind FROM bin_alert WHERE device_id = $1 AND resolved_at IS NULL ORDER BY kind`,
        [deviceId],
      );
      return { faults: faults.map((f) => f.code), alerts: alerts.map((a) => a.kind) };
    });
  }

  /** Writes what a telemetry reading changed. Opening what is already open does nothing (one open row per key). */
  async applyTelemetryChanges(deviceId: string, changes: BinTelemetryChanges): Promise<void> {
    const at = changes.at.toISOString();
    await this.db.transaction(async (query) => {
      if (changes.faultsAppeared.length > 0) {
        await query(
          `INSERT INTO device_fault (device_id, code, started_at)
           SELECT $1, code, $2::timestamptz FROM jsonb_array_elements_text($3::jsonb) AS code
           ON CONFLICT (device_id, code) WHERE cleared_at IS NULL DO NOTHING`,
          [deviceId, at, JSON.stringify(changes.faultsAppeared)],
        );
      }
      if (changes.faultsCleared.length > 0) {
        await query(
          `UPDATE device_fault SET cleared_at = GREATEST(started_at, $2::timestamptz)
            WHERE device_id = $1 AND cleared_at IS NULL AND code = ANY (ARRAY(SELECT jsonb_array_elements_text($3::jsonb)))`,
          [deviceId, at, JSON.stringify(changes.faultsCleared)],
        );
      }
      for (const alert of changes.alertsOpened) {
        await query(
          `INSERT INTO bin_alert (device_id, kind, value, opened_at) VALUES ($1, $2, $3::float8, $4::timestamptz)
           ON CONFLICT (device_id, kind) WHERE resolved_at IS NULL DO NOTHING`,
          [deviceId, alert.kind, String(alert.value), at],
        );
      }
      if (changes.alertsResolved.length > 0) {
        await query(
          `UPDATE bin_alert SET resolved_at = GREATEST(opened_at, $2::timestamptz)
            WHERE device_id = $1 AND resolved_at IS NULL AND kind = ANY (ARRAY(SELECT jsonb_array_elements_text($3::jsonb)))`,
          [deviceId, at, JSON.stringify(changes.alertsResolved)],
        );
      }
    });
  }

  /** Staff emptied the bin: records it and resolves its open fill alerts. */
  async recordCollection(input: {
    deviceId: string;
    collectedAt: Date;
    weightGrams: number;
    actor: string;
    note?: string | null | undefined;
  }): Promise<BinCollectionRecord> {
    return this.db.transaction(async (query) => {
      const rows = await query<CollectionRow>(
        `INSERT INTO bin_collection (device_id, collected_at, weight_grams, source, actor, note)
         VALUES ($1, $2::timestamptz, $3::float8, 'api', $4, NULLIF($5::text, ''))
         RETURNING ${COLLECTION_COLUMNS}`,
        [input.deviceId, input.collectedAt.toISOString(), String(input.weightGrams), input.actor, input.note ?? ''],
      );
      await resolveAlertsAt(query, input.deviceId, input.collectedAt);
      return toCollection(rows[0]!);
    });
  }

  /** Newest first, API and event collections alike. */
  async collections(deviceId: string, limit = 100): Promise<BinCollectionRecord[]> {
    return this.db.transaction(async (query) => {
      await syncEventCollections(query, deviceId);
      const rows = await query<CollectionRow>(
        `SELECT ${COLLECTION_COLUMNS} FROM bin_collection WHERE device_id = $1 ORDER BY collected_at DESC, id DESC LIMIT $2::int`,
        [deviceId, String(limit)],
      );
      return rows.map(toCollection);
    });
  }

  /** Open faults first, then the history, newest first. */
  async faults(deviceId: string, limit = 100): Promise<DeviceFaultRecord[]> {
    const rows = await this.db.prisma.deviceFault.findMany({
      where: { deviceId },
      orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
    const records = rows.map((r) => ({
      id: r.id.toString(),
      deviceId: r.deviceId,
      code: r.code,
      startedAt: r.startedAt,
      clearedAt: r.clearedAt,
    }));
    return [...records.filter((r) => r.clearedAt === null), ...records.filter((r) => r.clearedAt !== null)];
  }

  /** Newest first; a credited collection event resolves what was open then. */
  async alerts(deviceId: string, limit = 100): Promise<BinAlertRecord[]> {
    await this.db.transaction((query) => syncEventCollections(query, deviceId));
    const rows = await this.db.prisma.binAlert.findMany({
      where: { deviceId },
      orderBy: [{ openedAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
    return rows.map((r) => ({
      id: r.id.toString(),
      deviceId: r.deviceId,
      kind: r.kind as BinAlertRecord['kind'],
      value: r.value,
      openedAt: r.openedAt,
      resolvedAt: r.resolvedAt,
    }));
  }

  /** Every collection and every credited or pending deposit's weight of the bin: the collection report's input. */
  async reportInput(deviceId: string): Promise<BinReportInput> {
    const settings = await this.settings(deviceId);
    return this.db.transaction(
      async (query) => {
        await syncEventCollections(query, deviceId);
        const collections = await query<CollectionRow>(
          `SELECT ${COLLECTION_COLUMNS} FROM bin_collection WHERE device_id = $1 ORDER BY collected_at, id`,
          [deviceId],
        );
        const deposits = await query<{ at: Date | string; weight: number | string | null }>(
          `SELECT COALESCE(occurred_at, received_at) AS at, (payload->>'weightGrams')::float8 AS weight
             FROM device_event
            WHERE device_id = $1 AND type = 'deposit' AND result = ANY(ARRAY['credited', 'pending']::event_result[])`,
          [deviceId],
        );
        return {
          settings,
          collections: collections.map(toCollection),
          deposits: deposits.map((d) => ({ occurredAt: new Date(d.at), weightGrams: d.weight === null ? null : Number(d.weight) })),
        };
      },
      { scans: true },
    );
  }
}
