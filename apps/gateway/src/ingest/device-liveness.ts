import type { Telemetry } from '../../../../libs/protocol/src';

export interface DeviceLiveness {
  state: 'online' | 'offline' | 'unknown';
  stateChangedAt: Date | null;
  lastSeenAt: Date | null;
  lastTelemetry: Telemetry | null;
  lastTelemetryAt: Date | null;
  eventsReceived: number;
}

/**
 * Last seen, state and latest telemetry per device, kept in memory: never one
 * database write per message (ThingsBoard's per-message write was its
 * bottleneck). Persisting and alerting on it is the fleet-operations issue.
 */
export class DeviceLivenessTracker {
  private readonly devices = new Map<string, DeviceLiveness>();

  private entry(deviceId: string): DeviceLiveness {
    let e = this.devices.get(deviceId);
    if (!e) {
      e = { state: 'unknown', stateChangedAt: null, lastSeenAt: null, lastTelemetry: null, lastTelemetryAt: null, eventsReceived: 0 };
      this.devices.set(deviceId, e);
    }
    return e;
  }

  sawEvent(deviceId: string, at: Date): void {
    const e = this.entry(deviceId);
    e.lastSeenAt = at;
    e.eventsReceived++;
  }

  sawTelemetry(deviceId: string, telemetry: Telemetry, at: Date): void {
    const e = this.entry(deviceId);
    e.lastSeenAt = at;
    e.lastTelemetry = telemetry;
    e.lastTelemetryAt = at;
  }

  /** A retained status seen at subscribe time is old news: it sets the state, not last seen. */
  sawStatus(deviceId: string, state: 'online' | 'offline', at: Date, isRetained: boolean): void {
    const e = this.entry(deviceId);
    if (e.state !== state) {
      e.state = state;
      e.stateChangedAt = at;
    }
    if (!isRetained) e.lastSeenAt = at;
  }

  get(deviceId: string): DeviceLiveness | null {
    return this.devices.get(deviceId) ?? null;
  }
}
