import { type AuthFailure, AuthFailureTracker, type RepeatedAuthFailures } from './auth-failures';

const T0 = Date.parse('2026-11-23T08:00:00.000Z');
const failure = (secondsAfter: number, clientId: string, address: string | null = '10.0.0.9'): AuthFailure => ({
  clientId,
  username: clientId,
  address,
  reason: 'wrong-password',
  at: new Date(T0 + secondsAfter * 1000),
  source: 'embedded-broker',
});

function tracker(options = {}) {
  const t = new AuthFailureTracker({ windowSeconds: 60, threshold: 3, ...options });
  const events: RepeatedAuthFailures[] = [];
  t.on('repeated', (e) => events.push(e));
  return { t, events };
}

describe('AuthFailureTracker', () => {
  it('reports a client id that fails the threshold number of times inside the window', () => {
    const { t, events } = tracker();
    t.record(failure(0, 'bin-1', null));
    t.record(failure(10, 'bin-1', null));
    expect(events).toEqual([]);
    t.record(failure(20, 'bin-1', null));
    expect(events).toEqual([{ clientId: 'bin-1', address: null, count: 3, windowSeconds: 60 }]);
  });

  it('forgets failures that slid out of the window', () => {
    const { t, events } = tracker();
    t.record(failure(0, 'bin-1', null));
    t.record(failure(30, 'bin-1', null));
    t.record(failure(61, 'bin-1', null)); // the first one is 61 s old: two in the window
    expect(events).toEqual([]);
    expect(t.counts(new Date(T0 + 61_000)).byClientId).toEqual([{ clientId: 'bin-1', count: 2 }]);
  });

  it('counts one address across many client ids (a connect flood with random ids)', () => {
    const { t, events } = tracker();
    for (let i = 0; i < 3; i++) t.record(failure(i, `random-${i}`, '203.0.113.7'));
    expect(events).toEqual([{ clientId: null, address: '203.0.113.7', count: 3, windowSeconds: 60 }]);
  });

  it('reports a key at most once per window while it keeps failing', () => {
    const { t, events } = tracker();
    for (let i = 0; i < 10; i++) t.record(failure(i, 'bin-1', null));
    expect(events).toHaveLength(1);
    t.record(failure(70, 'bin-1', null));
    t.record(failure(71, 'bin-1', null));
    t.record(failure(72, 'bin-1', null));
    expect(events).toHaveLength(2);
  });

  it('keeps memory bounded: at most maxKeys keys and recentLimit failures', () => {
    const { t } = tracker({ maxKeys: 50, recentLimit: 20 });
    for (let i = 0; i < 1000; i++) t.record(failure(i / 100, `c-${i}`, `10.0.${Math.floor(i / 250)}.${i % 250}`));
    expect(t.trackedKeys).toBeLessThanOrEqual(100);
    expect(t.recentFailures()).toHaveLength(20);
    expect(t.recentFailures()[0]!.clientId).toBe('c-999');
    expect(t.totalFailures).toBe(1000);
  });
});
