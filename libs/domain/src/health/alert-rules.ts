/**
 * Device alert rules (issue #6) as pure functions: what a reading or a silence
 * opens and resolves. Each cause has hysteresis, so a value hovering at a
 * threshold does not flap, and the caller keeps one unresolved alert per cause.
 * Fill alerts are the bin's own (bin-rules.ts, thresholds in its bin settings);
 * they reach the same alert list through the alert engine's raise/clear.
 */

export type DeviceKindName = 'bin' | 'terminal' | 'counter';
export type AlertSeverity = 'warning' | 'critical';

export interface AlertRules {
  /** Offline (by will, timeout, ...) for longer than this opens an `offline` alert. */
  offlineAfterSeconds: number;
  /** Below this battery level opens `low-power`; null turns the check off. */
  lowBatteryPercent: number | null;
  /** Below this supply voltage opens `low-power`; null turns the check off. */
  lowPowerVolts: number | null;
  /** An outbox at least this deep and growing over the last readings opens `outbox-backlog`. */
  outboxBacklogEvents: number;
  /** A device clock off by more than this opens `clock-skew`. */
  clockSkewSeconds: number;
  /** Fault codes the device reports open `fault:<CODE>` alerts, except these. */
  faultAlerts: boolean;
  ignoredFaultCodes: string[];
  /** This many failed logins from one client id or address within the window opens `auth-failures`. */
  authFailureCount: number;
  authFailureWindowSeconds: number;
}

const COMMON: AlertRules = {
  offlineAfterSeconds: 600,
  lowBatteryPercent: 20,
  lowPowerVolts: null,
  outboxBacklogEvents: 20,
  clockSkewSeconds: 120,
  faultAlerts: true,
  ignoredFaultCodes: [],
  authFailureCount: 5,
  authFailureWindowSeconds: 300,
};

/** Sensible defaults per kind: bins run on a 12 V supply with a backup battery and keep deposits while offline. */
export const DEFAULT_ALERT_RULES: Record<DeviceKindName, AlertRules> = {
  bin: { ...COMMON, lowPowerVolts: 11, outboxBacklogEvents: 20 },
  terminal: { ...COMMON, outboxBacklogEvents: 50 },
  counter: { ...COMMON, offlineAfterSeconds: 1800, lowBatteryPercent: null, outboxBacklogEvents: 10 },
};

export function alertRulesFor(kind: DeviceKindName, overrides: Partial<AlertRules> = {}): AlertRules {
  return { ...DEFAULT_ALERT_RULES[kind], ...overrides };
}

/** Hysteresis: how far back a value must come before its alert resolves. */
export const BATTERY_HYSTERESIS_PERCENT = 5;
export const POWER_HYSTERESIS_VOLTS = 0.3;
/** Readings of the outbox depth that must each be deeper than the one before. */
export const OUTBOX_GROWTH_READINGS = 3;

export interface AlertOpening {
  cause: string;
  severity: AlertSeverity;
  value: number | null;
  message: string;
}

export interface AlertChanges {
  open: AlertOpening[];
  resolve: string[];
}

/** What one telemetry reading (plus what the gateway measured on arrival) says. Absent fields judge nothing. */
export interface DeviceReading {
  batteryPercent?: number | undefined;
  powerVolts?: number | undefined;
  faults?: readonly string[] | undefined;
  /** The latest outbox depths, oldest first, ending with this reading's. */
  outboxDepths?: readonly number[] | undefined;
  /** Arrival minus the device's own time for this message, in ms (positive: the device clock is behind). */
  clockSkewMs?: number | undefined;
}

export const faultCause = (code: string) => `fault:${code}`;

function lowPower(reading: DeviceReading, rules: AlertRules, isOpen: boolean): boolean | null {
  const checks: boolean[] = [];
  if (rules.lowBatteryPercent !== null && reading.batteryPercent !== undefined) {
    const limit = rules.lowBatteryPercent + (isOpen ? BATTERY_HYSTERESIS_PERCENT : 0);
    checks.push(reading.batteryPercent < limit);
  }
  if (rules.lowPowerVolts !== null && reading.powerVolts !== undefined) {
    const limit = rules.lowPowerVolts + (isOpen ? POWER_HYSTERESIS_VOLTS : 0);
    checks.push(reading.powerVolts < limit);
  }
  return checks.length === 0 ? null : checks.some(Boolean);
}

function isGrowing(depths: readonly number[]): boolean {
  if (depths.length < OUTBOX_GROWTH_READINGS) return false;
  const last = depths.slice(-OUTBOX_GROWTH_READINGS);
  return last.every((d, i) => i === 0 || d > last[i - 1]!);
}

/** Opens and resolutions for one reading, given the causes already unresolved for the device. */
export function evaluateReading(reading: DeviceReading, rules: AlertRules, open: ReadonlySet<string>): AlertChanges {
  const changes: AlertChanges = { open: [], resolve: [] };
  const decide = (cause: string, isActive: boolean | null, opening: () => AlertOpening) => {
    if (isActive === null) return;
    if (isActive && !open.has(cause)) changes.open.push(opening());
    else if (!isActive && open.has(cause)) changes.resolve.push(cause);
  };

  decide('low-power', lowPower(reading, rules, open.has('low-power')), () => ({
    cause: 'low-power',
    severity: 'warning',
    value: reading.batteryPercent ?? reading.powerVolts ?? null,
    message:
      reading.batteryPercent !== undefined && rules.lowBatteryPercent !== null && reading.batteryPercent < rules.lowBatteryPercent
        ? `电量低 ${reading.batteryPercent}% / battery low at ${reading.batteryPercent}%`
        : `供电电压低 ${reading.powerVolts} V / supply voltage low at ${reading.powerVolts} V`,
  }));

  const depths = reading.outboxDepths;
  if (depths && depths.length > 0) {
    const depth = depths[depths.length - 1]!;
    const isOpen = open.has('outbox-backlog');
    const isActive = isOpen ? depth >= rules.outboxBacklogEvents / 2 : depth >= rules.outboxBacklogEvents && isGrowing(depths);
    decide('outbox-backlog', isActive, () => ({
      cause: 'outbox-backlog',
      severity: 'warning',
      value: depth,
      message: `待发送事件积压 ${depth} 条且在增长 / ${depth} events waiting in the outbox and growing`,
    }));
  }

  if (reading.clockSkewMs !== undefined) {
    const skewS = Math.abs(reading.clockSkewMs) / 1000;
    const isOpen = open.has('clock-skew');
    decide('clock-skew', isOpen ? skewS >= rules.clockSkewSeconds / 2 : skewS > rules.clockSkewSeconds, () => ({
      cause: 'clock-skew',
      severity: 'warning',
      value: Math.round(reading.clockSkewMs! / 1000),
      message: `设备时钟偏差 ${Math.round(skewS)} 秒 / device clock off by ${Math.round(skewS)} s`,
    }));
  }

  if (reading.faults !== undefined && rules.faultAlerts) {
    const reported = new Set(reading.faults.filter((c) => !rules.ignoredFaultCodes.includes(c)));
    for (const code of [...reported].sort()) {
      decide(faultCause(code), true, () => ({
        cause: faultCause(code),
        severity: 'critical',
        value: null,
        message: `设备故障 ${code} / device fault ${code}`,
      }));
    }
    for (const cause of [...open].filter((c) => c.startsWith('fault:')).sort()) {
      if (!reported.has(cause.slice('fault:'.length))) changes.resolve.push(cause);
    }
  }
  return changes;
}

/** The offline alert: opens after the rule's time offline, resolves as soon as the device is back. */
export function evaluateOffline(
  state: 'online' | 'offline' | 'unknown',
  offlineSince: number | null,
  now: number,
  rules: AlertRules,
  isOpen: boolean,
): AlertChanges {
  if (state === 'online') return isOpen ? { open: [], resolve: ['offline'] } : { open: [], resolve: [] };
  if (state !== 'offline' || offlineSince === null || isOpen) return { open: [], resolve: [] };
  if (now - offlineSince <= rules.offlineAfterSeconds * 1000) return { open: [], resolve: [] };
  const seconds = Math.round((now - offlineSince) / 1000);
  const span =
    seconds < 120
      ? { zh: `${seconds} 秒`, en: `${seconds} s` }
      : { zh: `${Math.round(seconds / 60)} 分钟`, en: `${Math.round(seconds / 60)} min` };
  return {
    open: [
      {
        cause: 'offline',
        severity: 'critical',
        value: Math.round((now - offlineSince) / 1000),
        message: `设备离线已 ${span.zh} / device offline for ${span.en}`,
      },
    ],
    resolve: [],
  };
}

/** Repeated failed logins: true once `count` failures fall within the window ending now. */
export function isAuthFailureBurst(failureTimes: readonly number[], now: number, rules: AlertRules): boolean {
  const since = now - rules.authFailureWindowSeconds * 1000;
  return failureTimes.filter((t) => t > since && t <= now).length >= rules.authFailureCount;
}
