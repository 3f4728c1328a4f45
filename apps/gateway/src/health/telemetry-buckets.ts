import type { Telemetry } from '../../../../libs/protocol/src';
import type { TelemetrySampleRecord } from '../../../../libs/persistence/src';

const FIELDS = ['fillPercent', 'powerVolts', 'batteryPercent', 'temperatureC', 'rssiDbm', 'outboxDepth'] as const;
type Field = (typeof FIELDS)[number];

interface Bucket {
  deviceId: string;
  startMs: number;
  readings: number;
  isTouched: boolean;
  sums: Partial<Record<Field, { total: number; count: number }>>;
}

/**
 * Downsamples telemetry for the charts: one running average per device and
 * bucket of `bucketSeconds`. The open bucket is written at every flush (so the
 * chart is fresh) and forgotten once it is closed and written.
 */
export class TelemetryBuckets {
  private readonly open = new Map<string, Bucket>();
  private readonly closed: Bucket[] = [];

  constructor(private readonly bucketSeconds: number) {}

  add(deviceId: string, telemetry: Telemetry, atMs: number): void {
    const startMs = Math.floor(atMs / (this.bucketSeconds * 1000)) * this.bucketSeconds * 1000;
    let bucket = this.open.get(deviceId);
    if (bucket && bucket.startMs !== startMs) {
      this.closed.push(bucket);
      bucket = undefined;
    }
    if (!bucket) {
      bucket = { deviceId, startMs, readings: 0, isTouched: false, sums: {} };
      this.open.set(deviceId, bucket);
    }
    bucket.readings++;
    bucket.isTouched = true;
    for (const field of FIELDS) {
      const value = telemetry[field];
      if (typeof value !== 'number') continue;
      const sum = (bucket.sums[field] ??= { total: 0, count: 0 });
      sum.total += value;
      sum.count++;
    }
  }

  /** One device's buckets not yet written or still filling (read-only; the detail view merges them). */
  pending(deviceId: string): TelemetrySampleRecord[] {
    const rows = this.closed.filter((b) => b.deviceId === deviceId).map(toRow);
    const open = this.open.get(deviceId);
    if (open) rows.push(toRow(open));
    return rows;
  }

  /** Rows to write now: every closed bucket (then forgotten) and the open ones touched since the last call. */
  take(): TelemetrySampleRecord[] {
    const rows = this.closed.splice(0).map(toRow);
    for (const bucket of this.open.values()) {
      if (!bucket.isTouched) continue;
      bucket.isTouched = false;
      rows.push(toRow(bucket));
    }
    return rows;
  }
}

function toRow(b: Bucket): TelemetrySampleRecord {
  const avg = (f: Field) => {
    const s = b.sums[f];
    return s ? Math.round((s.total / s.count) * 100) / 100 : null;
  };
  return {
    deviceId: b.deviceId,
    bucketAt: new Date(b.startMs),
    readings: b.readings,
    fillPercent: avg('fillPercent'),
    powerVolts: avg('powerVolts'),
    batteryPercent: avg('batteryPercent'),
    temperatureC: avg('temperatureC'),
    rssiDbm: avg('rssiDbm'),
    outboxDepth: avg('outboxDepth'),
  };
}
