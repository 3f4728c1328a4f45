import type { BinRepository } from '../../../../libs/persistence/src';
import type { Telemetry } from '../../../../libs/protocol/src';
import type { Logger } from '../logging/logger';
import { type BinThresholds, FILL_ALERT_KINDS, type FillAlertKind, diffFaults, fillAlertChanges } from './bin-rules';

/** What the watcher needs of storage; BinRepository in the gateway, a fake in the specs. */
export type BinWatcherStore = Pick<BinRepository, 'openState' | 'applyTelemetryChanges' | 'settings'>;

interface DeviceBinState {
  faults: Set<string>;
  alerts: Set<FillAlertKind>;
  thresholds: BinThresholds;
  loadedAt: number;
}

/** Where fill alerts also go: the fleet's alert list (health/alert-engine.ts), with its lifecycle and webhooks. */
export interface FillAlertSink {
  raise(alert: {
    subject: string;
    deviceId: string;
    cause: string;
    severity: 'warning' | 'critical';
    value: number;
    message: string;
  }): void;
  clear(subject: string, cause: string, by?: string): void;
}

export interface BinWatcherOptions {
  alerts?: FillAlertSink;
  /** How long the state read from the database is trusted before it is read again (other replicas, settings). */
  refreshMs?: number;
  now?: () => number;
}

const DEFAULT_REFRESH_MS = 5 * 60_000;

/**
 * Fill alerts and faults from telemetry (issue #4). Keeps each device's open
 * faults and alerts in memory and writes only when a reading changes them:
 * never one database write per message. The first reading of a device (and one
 * every few minutes) reads what is open in the database, so a restart neither
 * duplicates nor forgets rows. Readings of one device are handled in order;
 * errors are logged, never thrown into the MQTT path.
 */
export class BinWatcher {
  private readonly states = new Map<string, DeviceBinState>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly refreshMs: number;
  private readonly now: () => number;
  private readonly alerts: FillAlertSink | undefined;

  constructor(
    private readonly store: BinWatcherStore,
    private readonly logger: Logger,
    options: BinWatcherOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    this.now = options.now ?? Date.now;
    this.alerts = options.alerts;
  }
  /** The bin has an open fill-full alert: its deposits are still acked, with a line saying so. */
  isFull(deviceId: string): boolean {
    return this.states.get(deviceId)?.alerts.has('fill-full') ?? false;
  }

  sawTelemetry(deviceId: string, telemetry: Telemetry, at: Date): void {
    if (telemetry.fillPercent === undefined && telemetry.faults === undefined) return;
    this.enqueue(deviceId, () => this.apply(deviceId, telemetry, at));
  }

  /** Staff emptied the bin (its alerts are resolved in the database): forget them here too. */
  collected(deviceId: string, by = 'collection'): void {
    this.enqueue(deviceId, () => {
      this.states.get(deviceId)?.alerts.clear();
      for (const kind of FILL_ALERT_KINDS) this.alerts?.clear(deviceId, kind, by);
    });
  }

  /** The bin's thresholds changed: take them from the next reading on. */
  settingsChanged(deviceId: string, thresholds: BinThresholds): void {
    this.enqueue(deviceId, () => {
      const state = this.states.get(deviceId);
      if (state) state.thresholds = { fillWarnPercent: thresholds.fillWarnPercent, fillFullPercent: thresholds.fillFullPercent };
    });
  }

  /** Resolves when every reading received so far is handled (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private enqueue(deviceId: string, task: () => Promise<void> | void): void {
    const previous = this.chains.get(deviceId) ?? Promise.resolve();
    const next = previous
      .then(task)
      .catch((err: unknown) => {
        // The memory may now disagree with the database: read it again next time.
        this.states.delete(deviceId);
        this.logger.error({ err, deviceId }, 'bin watcher: could not record telemetry changes');
      })
      .finally(() => {
        if (this.chains.get(deviceId) === next) this.chains.delete(deviceId);
      });
    this.chains.set(deviceId, next);
  }

  private async state(deviceId: string): Promise<DeviceBinState> {
    const known = this.states.get(deviceId);
    if (known && this.now() - known.loadedAt < this.refreshMs) return known;
    const [open, settings] = await Promise.all([this.store.openState(deviceId), this.store.settings(deviceId)]);
    const state: DeviceBinState = {
      faults: new Set(open.faults),
      alerts: new Set(open.alerts),
      thresholds: { fillWarnPercent: settings.fillWarnPercent, fillFullPercent: settings.fillFullPercent },
      loadedAt: this.now(),
    };
    this.states.set(deviceId, state);
    return state;
  }

  private async apply(deviceId: string, telemetry: Telemetry, at: Date): Promise<void> {
    const state = await this.state(deviceId);
    const faults = telemetry.faults === undefined ? { appeared: [], cleared: [] } : diffFaults(state.faults, telemetry.faults);
    const fill = telemetry.fillPercent;
    const alerts = fill === undefined ? { open: [], resolve: [] } : fillAlertChanges(fill, state.alerts, state.thresholds);
    if (faults.appeared.length + faults.cleared.length + alerts.open.length + alerts.resolve.length === 0) return;

    await this.store.applyTelemetryChanges(deviceId, {
      at,
      faultsAppeared: faults.appeared,
      faultsCleared: faults.cleared,
      alertsOpened: alerts.open.map((kind) => ({ kind, value: fill! })),
      alertsResolved: alerts.resolve,
    });
    for (const code of faults.appeared) state.faults.add(code);
    for (const code of faults.cleared) state.faults.delete(code);
    for (const kind of alerts.open) state.alerts.add(kind);
    for (const kind of alerts.resolve) state.alerts.delete(kind);
    for (const kind of alerts.open) {
      this.alerts?.raise({
        subject: deviceId,
        deviceId,
        cause: kind,
        severity: kind === 'fill-full' ? 'critical' : 'warning',
        value: fill!,
        message: kind === 'fill-full' ? `回收箱已满 ${fill}% / bin full at ${fill}%` : `回收箱将满 ${fill}% / bin nearly full at ${fill}%`,
      });
    }
    for (const kind of alerts.resolve) this.alerts?.clear(deviceId, kind);
    this.logger.info(
      {
        deviceId,
        faultsAppeared: faults.appeared,
        faultsCleared: faults.cleared,
        alertsOpened: alerts.open,
        alertsResolved: alerts.resolve,
      },
      'bin state changed',
    );
  }
}
