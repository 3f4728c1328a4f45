import { DEFAULT_ALERT_RULES, alertRulesFor, evaluateOffline, evaluateReading, isAuthFailureBurst } from './alert-rules';

const bin = DEFAULT_ALERT_RULES.bin;
const none = new Set<string>();

describe('evaluateReading', () => {
  it('opens low power below the battery threshold and resolves only 5 points above it', () => {
    expect(evaluateReading({ batteryPercent: 19 }, bin, none).open.map((o) => o.cause)).toEqual(['low-power']);
    const open = new Set(['low-power']);
    // Hovering just above the threshold keeps it open: no flapping.
    expect(evaluateReading({ batteryPercent: 21 }, bin, open)).toEqual({ open: [], resolve: [] });
    expect(evaluateReading({ batteryPercent: 24 }, bin, open)).toEqual({ open: [], resolve: [] });
    expect(evaluateReading({ batteryPercent: 25 }, bin, open)).toEqual({ open: [], resolve: ['low-power'] });
  });

  it('never opens a second alert for a cause already open', () => {
    expect(evaluateReading({ batteryPercent: 5, faults: ['JAM'] }, bin, new Set(['low-power', 'fault:JAM']))).toEqual({
      open: [],
      resolve: [],
    });
  });

  it('judges only what the reading contains', () => {
    expect(evaluateReading({ fillPercent: 99 } as never, bin, new Set(['low-power', 'fault:JAM', 'clock-skew']))).toEqual({
      open: [],
      resolve: [],
    });
  });

  it('opens one alert per fault code and resolves the codes no longer reported', () => {
    const changes = evaluateReading({ faults: ['TAMPER', 'JAM', 'JAM'] }, bin, new Set(['fault:SCALE_ERROR']));
    expect(changes.open.map((o) => [o.cause, o.severity])).toEqual([
      ['fault:JAM', 'critical'],
      ['fault:TAMPER', 'critical'],
    ]);
    expect(changes.resolve).toEqual(['fault:SCALE_ERROR']);
    const ignoring = alertRulesFor('bin', { ignoredFaultCodes: ['TAMPER'] });
    expect(evaluateReading({ faults: ['TAMPER'] }, ignoring, none).open).toEqual([]);
  });

  it('opens an outbox backlog only when it is deep and growing, and resolves below half', () => {
    expect(evaluateReading({ outboxDepths: [30, 30, 30] }, bin, none).open).toEqual([]);
    expect(evaluateReading({ outboxDepths: [5, 12, 25] }, bin, none).open.map((o) => o.value)).toEqual([25]);
    const open = new Set(['outbox-backlog']);
    expect(evaluateReading({ outboxDepths: [25, 18, 11] }, bin, open).resolve).toEqual([]);
    expect(evaluateReading({ outboxDepths: [25, 18, 9] }, bin, open).resolve).toEqual(['outbox-backlog']);
  });

  it('opens clock skew beyond 2 minutes either way and resolves under half of it', () => {
    expect(evaluateReading({ clockSkewMs: 120_000 }, bin, none).open).toEqual([]);
    expect(evaluateReading({ clockSkewMs: -121_000 }, bin, none).open[0]).toMatchObject({ cause: 'clock-skew', value: -121 });
    expect(evaluateReading({ clockSkewMs: 61_000 }, bin, new Set(['clock-skew'])).resolve).toEqual([]);
    expect(evaluateReading({ clockSkewMs: 59_000 }, bin, new Set(['clock-skew'])).resolve).toEqual(['clock-skew']);
  });

  it('uses the supply voltage where the kind has a limit and a device override where given', () => {
    expect(evaluateReading({ powerVolts: 10.5 }, bin, none).open.map((o) => o.cause)).toEqual(['low-power']);
    expect(evaluateReading({ powerVolts: 10.5 }, DEFAULT_ALERT_RULES.terminal, none).open).toEqual([]);
    expect(evaluateReading({ batteryPercent: 30 }, alertRulesFor('terminal', { lowBatteryPercent: 40 }), none).open).toHaveLength(1);
  });
});

describe('evaluateOffline', () => {
  const rules = alertRulesFor('bin', { offlineAfterSeconds: 600 });
  it('opens after the time offline and resolves when the device is back', () => {
    expect(evaluateOffline('offline', 0, 600_000, rules, false).open).toEqual([]);
    expect(evaluateOffline('offline', 0, 600_001, rules, false).open[0]).toMatchObject({ cause: 'offline', severity: 'critical' });
    expect(evaluateOffline('offline', 0, 900_000, rules, true)).toEqual({ open: [], resolve: [] });
    expect(evaluateOffline('online', null, 900_000, rules, true)).toEqual({ open: [], resolve: ['offline'] });
    expect(evaluateOffline('unknown', null, 900_000, rules, false)).toEqual({ open: [], resolve: [] });
  });
});

describe('isAuthFailureBurst', () => {
  it('counts failures inside the window only', () => {
    const rules = alertRulesFor('bin', { authFailureCount: 3, authFailureWindowSeconds: 60 });
    expect(isAuthFailureBurst([0, 10_000, 70_000], 70_000, rules)).toBe(false);
    expect(isAuthFailureBurst([20_000, 30_000, 70_000], 70_000, rules)).toBe(true);
  });
});
