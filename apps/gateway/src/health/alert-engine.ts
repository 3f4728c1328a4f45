import {
  type AlertChanges,
  type AlertOpening,
  type AlertRules,
  type DeviceReading,
  evaluateOffline,
  evaluateReading,
} from '../../../../libs/domain/src';
import type { AlertRecord, HealthRepository } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';
import type { DeviceMeta, HealthAlertSink } from './fleet-health';

export type AlertStore = Pick<HealthRepository, 'unresolvedAlerts' | 'openAlert' | 'clearAlert' | 'acknowledgeAlert' | 'resolveAlert'>;

export type AlertEventKind = 'opened' | 'acknowledged' | 'resolved';
export type AlertListener = (kind: AlertEventKind, alert: AlertRecord) => void;

/** What other parts raise by hand: the bin watcher's fill alerts, part A's repeated authentication failures. */
export interface RaisedAlert {
  /** The device id, or the client id / `address:<ip>` of failed logins. */
  subject: string;
  deviceId?: string | null;
  cause: string;
  severity: 'warning' | 'critical';
  value?: number | null;
  message: string;
}

const SYSTEM = 'system';

/**
 * Turns health into alerts (issue #6): one unresolved alert per subject and
 * cause, opened and resolved by the rules (with their hysteresis) or by hand
 * (raise/clear), acknowledged and resolved by operators. The open causes are
 * kept in memory (read at start), so a reading that changes nothing costs no
 * database call; changes for one subject are written in order. An alert an
 * operator resolves while its condition still holds stays closed until the
 * condition has cleared once (no reopening every tick).
 */
export class AlertEngine implements HealthAlertSink {
  private readonly open = new Map<string, Set<string>>();
  private readonly silenced = new Map<string, Set<string>>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly listeners = new Set<AlertListener>();

  constructor(
    private readonly store: AlertStore,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    for (const alert of await this.store.unresolvedAlerts()) this.causes(this.open, alert.subject).add(alert.cause);
  }

  subscribe(listener: AlertListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get openCount(): number {
    let n = 0;
    for (const causes of this.open.values()) n += causes.size;
    return n;
  }

  isOpen(subject: string, cause: string): boolean {
    return this.open.get(subject)?.has(cause) ?? false;
  }

  reading(device: DeviceMeta, reading: DeviceReading, rules: AlertRules): void {
    this.applyChanges(device.id, device.id, evaluateReading(reading, rules, this.known(device.id)));
  }

  presence(device: DeviceMeta, state: 'online' | 'offline' | 'unknown', offlineSince: number | null, now: number, rules: AlertRules): void {
    const changes = evaluateOffline(state, offlineSince, now, rules, this.known(device.id).has('offline'));
    if (changes.open.length + changes.resolve.length > 0) this.applyChanges(device.id, device.id, changes);
  }

  /** Opens an alert unless one for the subject and cause is unresolved. */
  raise(alert: RaisedAlert): void {
    if (this.known(alert.subject).has(alert.cause)) return;
    const opening: AlertOpening = { cause: alert.cause, severity: alert.severity, value: alert.value ?? null, message: alert.message };
    this.applyChanges(alert.subject, alert.deviceId ?? null, { open: [opening], resolve: [] });
  }

  /** The condition went away. */
  clear(subject: string, cause: string, by = SYSTEM): void {
    if (!this.known(subject).has(cause)) return;
    this.applyChanges(subject, null, { open: [], resolve: [cause] }, by);
  }

  async acknowledge(id: string, by: string): Promise<AlertRecord> {
    const alert = await this.store.acknowledgeAlert(id, by, new Date(this.now()));
    this.emit('acknowledged', alert);
    return alert;
  }

  async resolve(id: string, by: string): Promise<AlertRecord> {
    const alert = await this.store.resolveAlert(id, by, new Date(this.now()));
    this.open.get(alert.subject)?.delete(alert.cause);
    this.causes(this.silenced, alert.subject).add(alert.cause);
    this.emit('resolved', alert);
    return alert;
  }

  /** Resolves when every change queued so far is written (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private causes(map: Map<string, Set<string>>, subject: string): Set<string> {
    let set = map.get(subject);
    if (!set) {
      set = new Set();
      map.set(subject, set);
    }
    return set;
  }

  /** Open causes plus the ones an operator closed while they still held. */
  private known(subject: string): Set<string> {
    const open = this.open.get(subject);
    const silenced = this.silenced.get(subject);
    if (!silenced || silenced.size === 0) return open ?? new Set();
    return new Set([...(open ?? []), ...silenced]);
  }

  private applyChanges(subject: string, deviceId: string | null, changes: AlertChanges, by = SYSTEM): void {
    const silenced = this.silenced.get(subject);
    const resolve = changes.resolve.filter((cause) => !silenced?.delete(cause));
    const open = changes.open.filter((o) => !silenced?.has(o.cause) && !this.open.get(subject)?.has(o.cause));
    if (open.length + resolve.length === 0) return;
    // Marked at once, so the next reading does not open it again while this one is written.
    const causes = this.causes(this.open, subject);
    open.forEach((o) => causes.add(o.cause));
    resolve.forEach((cause) => causes.delete(cause));
    const at = new Date(this.now());
    this.enqueue(subject, async () => {
      for (const o of open) {
        const alert = await this.store
          .openAlert({ subject, deviceId, cause: o.cause, severity: o.severity, value: o.value, message: o.message, at })
          .catch((err: unknown) => {
            causes.delete(o.cause);
            throw err;
          });
        if (alert) {
          this.logger.warn({ deviceId, subject, cause: o.cause, alertId: alert.id }, 'alert opened');
          this.emit('opened', alert);
        }
      }
      for (const cause of resolve) {
        const alert = await this.store.clearAlert(subject, cause, at, by);
        if (alert) {
          this.logger.info({ deviceId: alert.deviceId, subject, cause, alertId: alert.id }, 'alert resolved');
          this.emit('resolved', alert);
        }
      }
    });
  }

  private enqueue(subject: string, task: () => Promise<void>): void {
    const previous = this.chains.get(subject) ?? Promise.resolve();
    const next = previous
      .then(task)
      .catch((err: unknown) => this.logger.error({ err, subject }, 'alert change not written'))
      .finally(() => {
        if (this.chains.get(subject) === next) this.chains.delete(subject);
      });
    this.chains.set(subject, next);
  }

  private emit(kind: AlertEventKind, alert: AlertRecord): void {
    for (const listener of this.listeners) {
      try {
        listener(kind, alert);
      } catch (err) {
        this.logger.warn({ err }, 'alert listener failed');
      }
    }
  }
}
