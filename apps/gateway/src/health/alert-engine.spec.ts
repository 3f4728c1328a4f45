import { alertRulesFor } from '../../../../libs/domain/src';
import type { AlertOpenInput, AlertRecord } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';
import { AlertEngine, type AlertStore } from './alert-engine';
import type { DeviceMeta } from './fleet-health';

/** An in-memory alert table with the database's rule: one unresolved row per subject and cause. */
class MemoryAlerts implements AlertStore {
  rows: AlertRecord[] = [];
  unresolvedAlerts() {
    return Promise.resolve(this.rows.filter((r) => r.status !== 'resolved'));
  }
  openAlert(input: AlertOpenInput) {
    if (this.rows.some((r) => r.subject === input.subject && r.cause === input.cause && r.status !== 'resolved'))
      return Promise.resolve(null);
    const row: AlertRecord = {
      id: String(this.rows.length + 1),
      subject: input.subject,
      deviceId: input.deviceId,
      cause: input.cause,
      severity: input.severity,
      status: 'open',
      value: input.value,
      message: input.message,
      openedAt: input.at,
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
    };
    this.rows.push(row);
    return Promise.resolve(row);
  }
  clearAlert(subject: string, cause: string, at: Date, by: string) {
    const row = this.rows.find((r) => r.subject === subject && r.cause === cause && r.status !== 'resolved');
    if (!row) return Promise.resolve(null);
    Object.assign(row, { status: 'resolved', resolvedAt: at, resolvedBy: by });
    return Promise.resolve(row);
  }
  acknowledgeAlert(id: string, by: string, at: Date) {
    const row = this.rows.find((r) => r.id === id)!;
    Object.assign(row, { status: 'acknowledged', acknowledgedAt: at, acknowledgedBy: by });
    return Promise.resolve(row);
  }
  resolveAlert(id: string, by: string, at: Date) {
    const row = this.rows.find((r) => r.id === id)!;
    Object.assign(row, { status: 'resolved', resolvedAt: at, resolvedBy: by });
    return Promise.resolve(row);
  }
}

const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
const bin: DeviceMeta = { id: 'bin-1', kind: 'bin', communityId: 'c', label: null, site: null, heartbeatSeconds: null, alertRules: {} };
const rules = alertRulesFor('bin', { offlineAfterSeconds: 60 });

describe('AlertEngine', () => {
  let store: MemoryAlerts;
  let engine: AlertEngine;
  const events: string[] = [];

  beforeEach(async () => {
    store = new MemoryAlerts();
    engine = new AlertEngine(store, silent, () => 1_000_000);
    events.length = 0;
    engine.subscribe((kind, alert) => events.push(`${kind}:${alert.cause}`));
    await engine.start();
  });

  it('keeps one alert per cause however many readings repeat it, and resolves it once', async () => {
    for (let i = 0; i < 5; i++) engine.reading(bin, { faults: ['JAM'], batteryPercent: 10 }, rules);
    await engine.idle();
    expect(store.rows.map((r) => r.cause).sort()).toEqual(['fault:JAM', 'low-power']);
    engine.reading(bin, { faults: [], batteryPercent: 23 }, rules); // 23 % is inside the hysteresis band
    await engine.idle();
    expect(events).toEqual(['opened:low-power', 'opened:fault:JAM', 'resolved:fault:JAM']);
    expect(engine.openCount).toBe(1);
  });

  it('opens offline only past the delay and resolves it when the device is back', async () => {
    engine.presence(bin, 'offline', 1_000_000 - 60_000, 1_000_000, rules);
    await engine.idle();
    expect(store.rows).toHaveLength(0);
    engine.presence(bin, 'offline', 1_000_000 - 61_000, 1_000_000, rules);
    engine.presence(bin, 'offline', 1_000_000 - 61_000, 1_000_000, rules);
    engine.presence(bin, 'online', null, 1_000_000, rules);
    await engine.idle();
    expect(store.rows.map((r) => [r.cause, r.status, r.resolvedBy])).toEqual([['offline', 'resolved', 'system']]);
  });

  it('does not reopen what an operator resolved until its condition has cleared once', async () => {
    engine.reading(bin, { faults: ['JAM'] }, rules);
    await engine.idle();
    await engine.resolve('1', 'staff:li');
    engine.reading(bin, { faults: ['JAM'] }, rules);
    await engine.idle();
    expect(store.rows).toHaveLength(1);
    engine.reading(bin, { faults: [] }, rules);
    engine.reading(bin, { faults: ['JAM'] }, rules);
    await engine.idle();
    expect(store.rows.map((r) => [r.id, r.status])).toEqual([
      ['1', 'resolved'],
      ['2', 'open'],
    ]);
  });

  it('takes raise/clear from other parts (failed logins, fill) and starts from what the database has open', async () => {
    engine.raise({ subject: 'address:10.0.0.9', cause: 'auth-failures', severity: 'warning', value: 7, message: '7 failed logins' });
    engine.raise({ subject: 'address:10.0.0.9', cause: 'auth-failures', severity: 'warning', value: 8, message: '8 failed logins' });
    await engine.idle();
    const restarted = new AlertEngine(store, silent);
    await restarted.start();
    expect(restarted.isOpen('address:10.0.0.9', 'auth-failures')).toBe(true);
    restarted.clear('address:10.0.0.9', 'auth-failures', 'staff:wang');
    await restarted.idle();
    expect(store.rows.map((r) => [r.subject, r.deviceId, r.status, r.resolvedBy])).toEqual([
      ['address:10.0.0.9', null, 'resolved', 'staff:wang'],
    ]);
  });
});
