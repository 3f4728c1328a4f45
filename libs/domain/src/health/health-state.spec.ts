import { type HealthSnapshot, nextHealthState } from './health-state';

const HEARTBEAT_S = 60;
const online = (lastActivityAt: number): HealthSnapshot => ({ state: 'online', lastActivityAt });
const offline: HealthSnapshot = { state: 'offline', lastActivityAt: 0 };
const unknown: HealthSnapshot = { state: 'unknown', lastActivityAt: null };

describe('nextHealthState', () => {
  it('goes offline by timeout only after 1.5 heartbeats of silence', () => {
    const device = online(1_000);
    expect(nextHealthState(device, { kind: 'tick', at: 1_000 + 90_000 }, HEARTBEAT_S)).toBeNull();
    expect(nextHealthState(device, { kind: 'tick', at: 1_000 + 90_001 }, HEARTBEAT_S)).toEqual({
      state: 'offline',
      reason: 'timeout',
      at: 91_001,
    });
  });

  it('gives every device a full window after the gateway starts watching', () => {
    const longSilent = online(0);
    expect(nextHealthState(longSilent, { kind: 'tick', at: 500_000 }, HEARTBEAT_S, 450_000)).toBeNull();
    expect(nextHealthState(longSilent, { kind: 'tick', at: 541_000 }, HEARTBEAT_S, 450_000)?.reason).toBe('timeout');
  });

  it('does not time out a device that is already offline or never seen', () => {
    expect(nextHealthState(offline, { kind: 'tick', at: 10_000_000 }, HEARTBEAT_S)).toBeNull();
    expect(nextHealthState(unknown, { kind: 'tick', at: 10_000_000 }, HEARTBEAT_S)).toBeNull();
  });

  it('tells the last will from a clean disconnect', () => {
    const status = (isShutdown: boolean) => ({ kind: 'status', state: 'offline', isRetained: false, isShutdown, at: 5 }) as const;
    expect(nextHealthState(online(1), status(false), HEARTBEAT_S)?.reason).toBe('will');
    expect(nextHealthState(online(1), status(true), HEARTBEAT_S)?.reason).toBe('clean-disconnect');
    // Offline already (timed out before the will came): no second change.
    expect(nextHealthState(offline, status(false), HEARTBEAT_S)).toBeNull();
  });

  it('takes a retained status as the starting state only', () => {
    const retainedOnline = { kind: 'status', state: 'online', isRetained: true, isShutdown: false, at: 5 } as const;
    expect(nextHealthState(unknown, retainedOnline, HEARTBEAT_S)).toEqual({ state: 'online', reason: 'connected', at: 5 });
    const retainedOffline = { kind: 'status', state: 'offline', isRetained: true, isShutdown: false, at: 5 } as const;
    expect(nextHealthState(online(1), retainedOffline, HEARTBEAT_S)).toBeNull();
  });

  it('comes back online on a live status or on any activity', () => {
    expect(nextHealthState(offline, { kind: 'activity', at: 9 }, HEARTBEAT_S)).toEqual({ state: 'online', reason: 'activity', at: 9 });
    expect(nextHealthState(online(1), { kind: 'activity', at: 9 }, HEARTBEAT_S)).toBeNull();
    expect(
      nextHealthState(offline, { kind: 'status', state: 'online', isRetained: false, isShutdown: false, at: 9 }, HEARTBEAT_S)?.reason,
    ).toBe('connected');
  });

  it('records revoked credentials as the reason, once', () => {
    expect(nextHealthState(online(1), { kind: 'credentials-revoked', at: 7 }, HEARTBEAT_S)?.reason).toBe('credentials-revoked');
    expect(nextHealthState(offline, { kind: 'credentials-revoked', at: 7 }, HEARTBEAT_S)).toBeNull();
  });
});
