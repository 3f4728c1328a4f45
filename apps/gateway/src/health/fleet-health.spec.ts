import type { FleetDeviceRecord, HealthFlush } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';
import { FLUSH_CHUNK, FleetHealth, type HealthAlertSink, type HealthStore } from './fleet-health';

const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

const device = (id: string): FleetDeviceRecord => ({
  id,
  kind: 'bin',
  communityId: 'c1',
  label: null,
  isActive: true,
  site: null,
  heartbeatSeconds: 10,
  alertRules: {},
  state: 'unknown',
  stateChangedAt: null,
  lastSeenAt: null,
  lastTelemetry: null,
  lastTelemetryAt: null,
  stats: {},
});

class FakeStore implements HealthStore {
  flushes: HealthFlush[] = [];
  failNext = false;
  /** Fails the flush call with this index (0-based, counting every call). */
  failCall: number | null = null;
  private calls = 0;
  fleet() {
    return Promise.resolve([device('bin-1')]);
  }
  fleetDevice(id: string) {
    return Promise.resolve(id.startsWith('bin-') ? device(id) : null);
  }
  flush(batch: HealthFlush) {
    if (this.calls++ === this.failCall) return Promise.reject(new Error('database down'));
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('database down'));
    }
    this.flushes.push(batch);
    return Promise.resolve();
  }
  pruneTelemetry() {
    return Promise.resolve(0);
  }
}

const noAlerts: HealthAlertSink = { reading() {}, presence() {} };

describe('FleetHealth', () => {
  let now: number;
  let store: FakeStore;
  let health: FleetHealth;

  beforeEach(async () => {
    now = 1_000_000;
    store = new FakeStore();
    health = new FleetHealth(store, noAlerts, silent, {
      flushMs: 3_600_000,
      tickMs: 3_600_000,
      sampleSeconds: 60,
      retentionDays: 30,
      now: () => now,
    });
    await health.start();
  });
  afterEach(async () => {
    await health.stop();
  });

  it('writes nothing per message: a hundred readings become one snapshot and one chart bucket at the flush', async () => {
    for (let i = 0; i < 100; i++) health.sawTelemetry('bin-1', { fillPercent: i }, new Date(now + i));
    expect(store.flushes).toHaveLength(0);
    await health.flush();
    expect(store.flushes).toHaveLength(1);
    const [batch] = store.flushes;
    expect(batch!.snapshots.map((s) => [s.deviceId, s.lastTelemetry])).toEqual([['bin-1', { fillPercent: 99 }]]);
    expect(batch!.samples).toEqual([expect.objectContaining({ deviceId: 'bin-1', readings: 100, fillPercent: 49.5 })]);
    expect(batch!.statusChanges.map((c) => `${c.state}:${c.reason}`)).toEqual(['online:activity']);
    // Nothing changed since: the next flush has nothing to write.
    await health.flush();
    expect(store.flushes[1]).toEqual({ snapshots: [], statusChanges: [], samples: [] });
  });

  it('times a silent device out after 1.5 heartbeats, on the tick', () => {
    health.sawTelemetry('bin-1', { rssiDbm: -60 }, new Date(now));
    now += 15_000;
    health.tick();
    expect(health.view('bin-1')?.state).toBe('online');
    now += 1;
    health.tick();
    expect(health.view('bin-1')?.state).toBe('offline');
    expect(health.unflushedChanges('bin-1').map((c) => c.reason)).toEqual(['timeout', 'activity']);
  });

  it('keeps what a failed flush could not write for the next one', async () => {
    health.sawStatus('bin-1', 'online', new Date(now), false, false);
    store.failNext = true;
    await health.flush();
    expect(store.flushes).toHaveLength(0);
    await health.flush();
    expect(store.flushes[0]!.statusChanges.map((c) => c.reason)).toEqual(['connected']);
    expect(store.flushes[0]!.snapshots.map((s) => s.state)).toEqual(['online']);
  });

  it('flushes a large fleet in transactions of FLUSH_CHUNK devices, keeping a failed chunk and the rest for the next flush', async () => {
    const count = FLUSH_CHUNK * 2 + 7;
    for (let i = 0; i < count; i++) health.sawTelemetry(`bin-${i}`, { fillPercent: 5 }, new Date(now));
    await new Promise((resolve) => setImmediate(resolve)); // the registry lookups of new ids
    for (let i = 0; i < count; i++) health.sawTelemetry(`bin-${i}`, { fillPercent: 6 }, new Date(now));
    store.failCall = 1; // the second chunk fails
    await health.flush();
    expect(store.flushes.map((f) => f.snapshots.length)).toEqual([FLUSH_CHUNK]);
    await health.flush();
    const written = store.flushes.flatMap((f) => f.snapshots.map((snap) => snap.deviceId));
    expect(store.flushes.map((f) => f.snapshots.length)).toEqual([FLUSH_CHUNK, FLUSH_CHUNK, 7]);
    expect(new Set(written).size).toBe(count);
  });

  it('stops tracking a device id the registry does not know', async () => {
    health.sawTelemetry('ghost-1', { fillPercent: 5 }, new Date(now));
    await new Promise((resolve) => setImmediate(resolve));
    expect(health.view('ghost-1')).toBeNull();
    health.sawTelemetry('ghost-1', { fillPercent: 6 }, new Date(now));
    expect(health.view('ghost-1')).toBeNull();
    expect(health.counts).toEqual({ online: 0, offline: 0, unknown: 1 });
  });

  it('records revoked credentials as the reason it went offline', () => {
    health.sawStatus('bin-1', 'online', new Date(now), false, false);
    health.credentialsRevoked('bin-1');
    health.sawStatus('bin-1', 'offline', new Date(now), false, false); // the will that follows changes nothing
    expect(health.unflushedChanges('bin-1').map((c) => c.reason)).toEqual(['credentials-revoked', 'connected']);
  });
});
