import type { BinTelemetryChanges } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';
import { BinWatcher, type BinWatcherStore } from './bin-watcher';

const silent = { info: () => undefined, warn: () => undefined, error: jest.fn(), debug: () => undefined } as unknown as Logger;

function fakeStore(open: { faults: string[]; alerts: ('fill-warn' | 'fill-full')[] } = { faults: [], alerts: [] }) {
  const writes: BinTelemetryChanges[] = [];
  const reads = { openState: 0 };
  const store: BinWatcherStore & { fail: boolean } = {
    fail: false,
    openState: async () => {
      reads.openState++;
      return { faults: [...open.faults], alerts: [...open.alerts] };
    },
    settings: async (deviceId: string) => ({
      deviceId,
      fillWarnPercent: 80,
      fillFullPercent: 95,
      weightTolerancePercent: 10,
      updatedAt: null,
      updatedBy: null,
    }),
    applyTelemetryChanges: async (_deviceId: string, changes: BinTelemetryChanges) => {
      if (store.fail) throw new Error('database down');
      writes.push(changes);
    },
  };
  return { store, writes, reads };
}

const at = new Date('2026-11-23T08:00:00.000Z');

describe('BinWatcher', () => {
  it('writes only when a reading changes something', async () => {
    const { store, writes, reads } = fakeStore();
    const watcher = new BinWatcher(store, silent);
    for (const fill of [10, 20, 30, 85, 86, 96, 96, 97]) watcher.sawTelemetry('bin-1', { fillPercent: fill, faults: [] }, at);
    watcher.sawTelemetry('bin-1', { batteryPercent: 50 }, at);
    await watcher.idle();
    expect(reads.openState).toBe(1);
    expect(writes.map((w) => w.alertsOpened)).toEqual([[{ kind: 'fill-warn', value: 85 }], [{ kind: 'fill-full', value: 96 }]]);
  });

  it('opens a fault when its code appears and closes it when it disappears', async () => {
    const { store, writes } = fakeStore();
    const watcher = new BinWatcher(store, silent);
    watcher.sawTelemetry('bin-1', { faults: ['JAM'] }, at);
    watcher.sawTelemetry('bin-1', { faults: ['JAM'] }, at);
    watcher.sawTelemetry('bin-1', { fillPercent: 5 }, at); // no faults field: nothing known about faults
    watcher.sawTelemetry('bin-1', { faults: [] }, at);
    await watcher.idle();
    expect(writes.map((w) => [w.faultsAppeared, w.faultsCleared])).toEqual([
      [['JAM'], []],
      [[], ['JAM']],
    ]);
  });

  it('starts from what is open in the database (a restart neither duplicates nor forgets)', async () => {
    const { store, writes } = fakeStore({ faults: ['TAMPER'], alerts: ['fill-warn'] });
    const watcher = new BinWatcher(store, silent);
    watcher.sawTelemetry('bin-1', { fillPercent: 82, faults: [] }, at);
    await watcher.idle();
    expect(writes).toEqual([{ at, faultsAppeared: [], faultsCleared: ['TAMPER'], alertsOpened: [], alertsResolved: [] }]);
  });

  it('forgets alerts on a collection so a refilled bin alerts again', async () => {
    const { store, writes } = fakeStore();
    const watcher = new BinWatcher(store, silent);
    watcher.sawTelemetry('bin-1', { fillPercent: 90 }, at);
    watcher.collected('bin-1');
    watcher.sawTelemetry('bin-1', { fillPercent: 90 }, at);
    await watcher.idle();
    expect(writes.map((w) => w.alertsOpened.map((a) => a.kind))).toEqual([['fill-warn'], ['fill-warn']]);
  });

  it('takes new thresholds from the next reading on', async () => {
    const { store, writes } = fakeStore();
    const watcher = new BinWatcher(store, silent);
    watcher.sawTelemetry('bin-1', { fillPercent: 60 }, at);
    watcher.settingsChanged('bin-1', { fillWarnPercent: 50, fillFullPercent: 90 });
    watcher.sawTelemetry('bin-1', { fillPercent: 61 }, at);
    await watcher.idle();
    expect(writes.map((w) => w.alertsOpened)).toEqual([[{ kind: 'fill-warn', value: 61 }]]);
  });

  it('logs a failed write, never throws, and re-reads the database next time', async () => {
    const { store, writes, reads } = fakeStore();
    const watcher = new BinWatcher(store, silent);
    store.fail = true;
    expect(() => watcher.sawTelemetry('bin-1', { faults: ['JAM'] }, at)).not.toThrow();
    await watcher.idle();
    expect(silent.error).toHaveBeenCalled();
    store.fail = false;
    watcher.sawTelemetry('bin-1', { faults: ['JAM'] }, at);
    await watcher.idle();
    expect(reads.openState).toBe(2);
    expect(writes.map((w) => w.faultsAppeared)).toEqual([['JAM']]);
  });
});
