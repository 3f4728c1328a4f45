import {
  type AlertRules,
  type DeviceReading,
  type HealthInput,
  type StatusReason,
  alertRulesFor,
  nextHealthState,
} from '../../../../libs/domain/src';
import type {
  FleetDeviceRecord,
  HealthRepository,
  HealthSnapshotRow,
  StatusChangeRecord,
  TelemetrySampleRecord,
} from '../../../../libs/persistence/src';
import type { Telemetry } from '../../../../libs/protocol/src';
import type { Logger } from '../logging/logger';
import { RateCounter } from './rate-counter';
import { TelemetryBuckets } from './telemetry-buckets';

/** Rows of each kind per health-flush transaction (FleetHealth.flush). */
export const FLUSH_CHUNK = 500;

export type HealthStore = Pick<HealthRepository, 'fleet' | 'fleetDevice' | 'flush' | 'pruneTelemetry'>;

/** What the alert engine is told by health (alert-engine.ts); a fake in the specs. */
export interface HealthAlertSink {
  reading(device: DeviceMeta, reading: DeviceReading, rules: AlertRules): void;
  presence(device: DeviceMeta, state: 'online' | 'offline' | 'unknown', offlineSince: number | null, now: number, rules: AlertRules): void;
}

export interface DeviceMeta {
  id: string;
  kind: FleetDeviceRecord['kind'];
  communityId: string;
  label: string | null;
  site: string | null;
  heartbeatSeconds: number | null;
  alertRules: Partial<AlertRules>;
}

export interface LastEvent {
  eventId: string;
  at: number;
  result: string | null;
  reason: string | null;
}

/** One device's live health, as the API and the ops page see it. */
export interface DeviceHealthView {
  deviceId: string;
  state: 'online' | 'offline' | 'unknown';
  stateChangedAt: string | null;
  lastSeenAt: string | null;
  telemetry: Telemetry | null;
  telemetryAt: string | null;
  clockSkewSeconds: number | null;
  eventsPerMinute: number;
  messagesPerMinute: number;
  lastEvent: { eventId: string; at: string; result: string | null; reason: string | null } | null;
  heartbeatSeconds: number;
}

interface LiveDevice {
  id: string;
  state: 'online' | 'offline' | 'unknown';
  stateChangedAt: number | null;
  lastActivityAt: number | null;
  telemetry: Telemetry | null;
  telemetryAt: number | null;
  clockSkewMs: number | null;
  outboxDepths: number[];
  events: RateCounter;
  messages: RateCounter;
  lastEvent: LastEvent | null;
  isDirty: boolean;
}

export interface FleetHealthOptions {
  /** Heartbeat per kind when a device has none of its own (PROTOCOL.md: telemetry every 60 s). */
  heartbeatSeconds?: Partial<Record<DeviceMeta['kind'], number>>;
  /** Gateway-wide override of every heartbeat (tests use seconds). */
  heartbeatOverrideSeconds?: number | undefined;
  /** Gateway-wide override of the offline alert's delay. */
  offlineAlertOverrideSeconds?: number | undefined;
  flushMs: number;
  tickMs: number;
  sampleSeconds: number;
  retentionDays: number;
  now?: () => number;
}

export type FleetHealthListener = (view: DeviceHealthView, change: { state: string; reason: StatusReason } | null) => void;

const OUTBOX_READINGS_KEPT = 5;
const UNKNOWN_RECHECK_MS = 60_000;
/** PROTOCOL.md: a device sends telemetry every 60 s. */
export const DEFAULT_HEARTBEAT_SECONDS = 60;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Every device's health, in memory (issue #6): state with reasons, last seen,
 * latest telemetry, rates, clock skew, last event. Written to the database by
 * `flush` on a timer, in one transaction per flush, never per message. The
 * periodic jobs (`tick`, `flush`, `prune`) are single methods, so a cross-replica
 * lease can wrap each.
 */
export class FleetHealth {
  private readonly devices = new Map<string, LiveDevice>();
  private readonly meta = new Map<string, DeviceMeta>();
  private readonly loading = new Map<string, Promise<DeviceMeta | null>>();
  /** Devices not in the registry, and when that was last checked: not read again on every reading. */
  private readonly unknownSince = new Map<string, number>();
  private readonly statusChanges: StatusChangeRecord[] = [];
  private readonly buckets: TelemetryBuckets;
  private readonly listeners = new Set<FleetHealthListener>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly now: () => number;
  private watchSince = 0;
  private isFlushing = false;

  constructor(
    private readonly store: HealthStore,
    private readonly alerts: HealthAlertSink,
    private readonly logger: Logger,
    private readonly options: FleetHealthOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.buckets = new TelemetryBuckets(options.sampleSeconds);
  }

  /** Reads the last flushed state of every device, then starts the timers. */
  async start(): Promise<void> {
    this.watchSince = this.now();
    for (const row of await this.store.fleet()) {
      this.meta.set(row.id, metaOf(row));
      const live = this.entry(row.id);
      live.state = row.state;
      live.stateChangedAt = row.stateChangedAt?.getTime() ?? null;
      live.lastActivityAt = row.lastSeenAt?.getTime() ?? null;
      live.telemetry = row.lastTelemetry ?? null;
      live.telemetryAt = row.lastTelemetryAt?.getTime() ?? null;
      live.isDirty = false;
    }
    const every = (ms: number, job: () => Promise<unknown> | void) => {
      const timer = setInterval(
        () => void Promise.resolve(job()).catch((err: unknown) => this.logger.error({ err }, 'health job failed')),
        ms,
      );
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.tickMs, () => this.tick());
    every(this.options.flushMs, () => this.flush());
    every(60 * 60_000, () => this.prune());
  }

  async stop(): Promise<void> {
    this.timers.splice(0).forEach((t) => clearInterval(t));
    await this.flush();
  }

  subscribe(listener: FleetHealthListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  sawEvent(deviceId: string, at: Date, occurredAt?: Date): void {
    if (this.isUnregistered(deviceId)) return;
    const live = this.activity(deviceId, at.getTime());
    live.events.add(at.getTime());
    // An event replayed from the outbox is late by design; only a clock ahead of ours says skew.
    if (occurredAt && occurredAt.getTime() > at.getTime()) live.clockSkewMs = at.getTime() - occurredAt.getTime();
  }

  sawOutcome(deviceId: string, eventId: string, result: string | null, reason: string | null): void {
    if (this.isUnregistered(deviceId)) return;
    const live = this.entry(deviceId);
    live.lastEvent = { eventId, at: this.now(), result, reason };
    live.isDirty = true;
  }

  sawTelemetry(deviceId: string, telemetry: Telemetry, at: Date): void {
    if (this.isUnregistered(deviceId)) return;
    const atMs = at.getTime();
    const live = this.activity(deviceId, atMs);
    live.telemetry = { ...live.telemetry, ...telemetry };
    live.telemetryAt = atMs;
    if (telemetry.sentAt) live.clockSkewMs = atMs - Date.parse(telemetry.sentAt);
    if (telemetry.outboxDepth !== undefined) {
      live.outboxDepths.push(telemetry.outboxDepth);
      if (live.outboxDepths.length > OUTBOX_READINGS_KEPT) live.outboxDepths.shift();
    }
    this.buckets.add(deviceId, telemetry, atMs);
    const reading: DeviceReading = {
      batteryPercent: telemetry.batteryPercent,
      powerVolts: telemetry.powerVolts,
      faults: telemetry.faults,
      outboxDepths: telemetry.outboxDepth === undefined ? undefined : [...live.outboxDepths],
      clockSkewMs: telemetry.sentAt ? (live.clockSkewMs ?? undefined) : undefined,
    };
    this.withMeta(deviceId, (meta) => this.alerts.reading(meta, reading, this.rulesOf(meta)));
    this.publish(live, null);
  }

  sawStatus(deviceId: string, state: 'online' | 'offline', at: Date, isRetained: boolean, isShutdown: boolean): void {
    if (this.isUnregistered(deviceId)) return;
    const live = this.entry(deviceId);
    live.messages.add(at.getTime());
    this.apply(live, { kind: 'status', state, isRetained, isShutdown, at: at.getTime() });
    if (!isRetained && state === 'online') live.lastActivityAt = at.getTime();
  }

  /** Part A calls this when it disables or rotates a device's credentials and the broker drops it. */
  credentialsRevoked(deviceId: string): void {
    this.apply(this.entry(deviceId), { kind: 'credentials-revoked', at: this.now() });
  }

  /** The silence check and the offline alerts: one pass over the fleet. */
  tick(): void {
    const now = this.now();
    for (const live of this.devices.values()) {
      const meta = this.meta.get(live.id);
      this.apply(live, { kind: 'tick', at: now }, meta);
      if (meta) this.alerts.presence(meta, live.state, live.state === 'offline' ? live.stateChangedAt : null, now, this.rulesOf(meta));
    }
  }

  /**
   * Writes what changed since the last flush, FLUSH_CHUNK rows of each kind per
   * transaction: 10,000 devices' heartbeats in one transaction held the embedded
   * database (one transaction at a time) for long enough to stall the ingest's
   * commits, and with chunks those go in between. What a failed chunk and the
   * ones after it could not write is kept for the next flush.
   */
  async flush(): Promise<void> {
    if (this.isFlushing) return;
    this.isFlushing = true;
    const dirty = [...this.devices.values()].filter((d) => d.isDirty);
    dirty.forEach((d) => (d.isDirty = false));
    const statusChanges = this.statusChanges.splice(0);
    const samples = this.buckets.take();
    const chunks = Math.max(1, Math.ceil(Math.max(dirty.length, statusChanges.length, samples.length) / FLUSH_CHUNK));
    let chunk = 0;
    try {
      for (; chunk < chunks; chunk++) {
        const part = <T>(rows: T[]) => rows.slice(chunk * FLUSH_CHUNK, (chunk + 1) * FLUSH_CHUNK);
        await this.store.flush({
          snapshots: part(dirty).map((d) => this.snapshotRow(d)),
          statusChanges: part(statusChanges),
          samples: part(samples),
        });
      }
    } catch (err) {
      const unwritten = chunk * FLUSH_CHUNK;
      dirty.slice(unwritten).forEach((d) => (d.isDirty = true));
      this.statusChanges.unshift(...statusChanges.slice(unwritten));
      this.logger.error({ err, devices: dirty.length - unwritten }, 'health flush failed; kept for the next one');
    } finally {
      this.isFlushing = false;
    }
  }

  /** Drops chart buckets past the retention. */
  async prune(): Promise<void> {
    const removed = await this.store.pruneTelemetry(new Date(this.now() - this.options.retentionDays * 86_400_000));
    if (removed > 0) this.logger.info({ removed }, 'old telemetry buckets pruned');
  }

  /** Operations settings changed through the API: read them again. */
  async settingsChanged(deviceId: string): Promise<void> {
    this.meta.delete(deviceId);
    await this.loadMeta(deviceId);
  }

  /** Status changes not yet flushed, newest first: the detail view shows them before the stored history. */
  unflushedChanges(deviceId: string): StatusChangeRecord[] {
    return this.statusChanges.filter((c) => c.deviceId === deviceId).reverse();
  }

  /** Chart buckets still in memory (filling, or closed and not yet flushed). */
  unflushedSamples(deviceId: string): TelemetrySampleRecord[] {
    return this.buckets.pending(deviceId);
  }

  metaOf(deviceId: string): DeviceMeta | undefined {
    return this.meta.get(deviceId);
  }

  view(deviceId: string): DeviceHealthView | null {
    const live = this.devices.get(deviceId);
    return live ? this.viewOf(live) : null;
  }

  get counts(): { online: number; offline: number; unknown: number } {
    const counts = { online: 0, offline: 0, unknown: 0 };
    for (const d of this.devices.values()) counts[d.state]++;
    return counts;
  }

  heartbeatOf(meta: DeviceMeta | undefined): number {
    return (
      this.options.heartbeatOverrideSeconds ??
      meta?.heartbeatSeconds ??
      (meta ? this.options.heartbeatSeconds?.[meta.kind] : undefined) ??
      DEFAULT_HEARTBEAT_SECONDS
    );
  }

  private rulesOf(meta: DeviceMeta): AlertRules {
    const rules = alertRulesFor(meta.kind, meta.alertRules);
    const override = this.options.offlineAlertOverrideSeconds;
    return override === undefined ? rules : { ...rules, offlineAfterSeconds: override };
  }

  /**
   * A device id the registry does not know (an external broker may let one through):
   * not tracked, so made-up ids cannot grow the memory; checked again after a minute.
   */
  private isUnregistered(deviceId: string): boolean {
    const checkedAt = this.unknownSince.get(deviceId);
    if (checkedAt === undefined) return false;
    if (this.now() - checkedAt < UNKNOWN_RECHECK_MS) return true;
    this.unknownSince.delete(deviceId);
    return false;
  }

  private entry(deviceId: string): LiveDevice {
    let live = this.devices.get(deviceId);
    if (!live) {
      live = {
        id: deviceId,
        state: 'unknown',
        stateChangedAt: null,
        lastActivityAt: null,
        telemetry: null,
        telemetryAt: null,
        clockSkewMs: null,
        outboxDepths: [],
        events: new RateCounter(),
        messages: new RateCounter(),
        lastEvent: null,
        isDirty: true,
      };
      this.devices.set(deviceId, live);
      void this.loadMeta(deviceId);
    }
    return live;
  }

  private activity(deviceId: string, atMs: number): LiveDevice {
    const live = this.entry(deviceId);
    live.lastActivityAt = Math.max(live.lastActivityAt ?? 0, atMs);
    live.messages.add(atMs);
    live.isDirty = true;
    this.apply(live, { kind: 'activity', at: atMs });
    return live;
  }

  private apply(live: LiveDevice, input: HealthInput, meta = this.meta.get(live.id)): void {
    const next = nextHealthState(
      { state: live.state, lastActivityAt: live.lastActivityAt },
      input,
      this.heartbeatOf(meta),
      this.watchSince,
    );
    if (!next) return;
    live.state = next.state;
    live.stateChangedAt = next.at;
    live.isDirty = true;
    this.statusChanges.push({ deviceId: live.id, state: next.state, reason: next.reason, at: new Date(next.at) });
    this.logger.info({ deviceId: live.id, state: next.state, reason: next.reason }, 'device status changed');
    if (meta) this.alerts.presence(meta, live.state, live.state === 'offline' ? live.stateChangedAt : null, next.at, this.rulesOf(meta));
    this.publish(live, { state: next.state, reason: next.reason });
  }

  private publish(live: LiveDevice, change: { state: string; reason: StatusReason } | null): void {
    if (this.listeners.size === 0) return;
    const view = this.viewOf(live);
    for (const listener of this.listeners) {
      try {
        listener(view, change);
      } catch (err) {
        this.logger.warn({ err }, 'health listener failed');
      }
    }
  }

  private withMeta(deviceId: string, use: (meta: DeviceMeta) => void): void {
    const known = this.meta.get(deviceId);
    if (known) return use(known);
    const checkedAt = this.unknownSince.get(deviceId);
    if (checkedAt !== undefined && this.now() - checkedAt < UNKNOWN_RECHECK_MS) return;
    void this.loadMeta(deviceId).then((meta) => meta && use(meta));
  }

  private loadMeta(deviceId: string): Promise<DeviceMeta | null> {
    const pending = this.loading.get(deviceId);
    if (pending) return pending;
    const load = this.store
      .fleetDevice(deviceId)
      .then((row) => {
        if (!row) {
          this.unknownSince.set(deviceId, this.now());
          this.devices.delete(deviceId);
          return null;
        }
        this.unknownSince.delete(deviceId);
        const meta = metaOf(row);
        this.meta.set(deviceId, meta);
        return meta;
      })
      .catch((err: unknown) => {
        this.logger.warn({ err, deviceId }, 'could not read the device for its health settings');
        return null;
      })
      .finally(() => this.loading.delete(deviceId));
    this.loading.set(deviceId, load);
    return load;
  }

  private snapshotRow(d: LiveDevice): HealthSnapshotRow {
    const now = this.now();
    return {
      deviceId: d.id,
      state: d.state,
      stateChangedAt: d.stateChangedAt === null ? null : new Date(d.stateChangedAt),
      lastSeenAt: d.lastActivityAt === null ? null : new Date(d.lastActivityAt),
      lastTelemetry: d.telemetry ?? null,
      lastTelemetryAt: d.telemetryAt === null ? null : new Date(d.telemetryAt),
      stats: {
        clockSkewSeconds: d.clockSkewMs === null ? null : Math.round(d.clockSkewMs / 1000),
        eventsPerMinute: d.events.perMinute(now),
        messagesPerMinute: d.messages.perMinute(now),
        lastEvent: lastEventOf(d),
      },
    };
  }

  private viewOf(d: LiveDevice): DeviceHealthView {
    const now = this.now();
    return {
      deviceId: d.id,
      state: d.state,
      stateChangedAt: iso(d.stateChangedAt),
      lastSeenAt: iso(d.lastActivityAt),
      telemetry: d.telemetry,
      telemetryAt: iso(d.telemetryAt),
      clockSkewSeconds: d.clockSkewMs === null ? null : Math.round(d.clockSkewMs / 1000),
      eventsPerMinute: d.events.perMinute(now),
      messagesPerMinute: d.messages.perMinute(now),
      lastEvent: lastEventOf(d),
      heartbeatSeconds: this.heartbeatOf(this.meta.get(d.id)),
    };
  }
}

function lastEventOf(d: LiveDevice) {
  return d.lastEvent ? { ...d.lastEvent, at: new Date(d.lastEvent.at).toISOString() } : null;
}

function metaOf(row: FleetDeviceRecord): DeviceMeta {
  return {
    id: row.id,
    kind: row.kind,
    communityId: row.communityId,
    label: row.label,
    site: row.site,
    heartbeatSeconds: row.heartbeatSeconds,
    alertRules: row.alertRules,
  };
}
