/**
 * A device's online/offline state as a pure state machine (issue #6). The
 * gateway feeds it what it hears (status messages, activity) and a clock tick;
 * each change comes back with its reason, which the status history keeps.
 * Time is passed in.
 */

export type HealthState = 'online' | 'offline' | 'unknown';

export const OFFLINE_REASONS = ['will', 'timeout', 'clean-disconnect', 'credentials-revoked'] as const;
export const ONLINE_REASONS = ['connected', 'activity'] as const;
export type StatusReason = (typeof OFFLINE_REASONS)[number] | (typeof ONLINE_REASONS)[number];

export interface HealthSnapshot {
  state: HealthState;
  /** When the device last sent something (events, telemetry, a live status); null if never. */
  lastActivityAt: number | null;
}

export type HealthInput =
  /** A status message. `isShutdown`: the device said it is leaving on purpose (`"reason":"shutdown"`). */
  | { kind: 'status'; state: 'online' | 'offline'; isRetained: boolean; isShutdown: boolean; at: number }
  /** An event or telemetry reading arrived (MQTT keep-alive pings never reach the gateway, so never count). */
  | { kind: 'activity'; at: number }
  /** The clock: checks for silence. */
  | { kind: 'tick'; at: number }
  /** Part A disabled or rotated the device's credentials and the broker dropped it. */
  | { kind: 'credentials-revoked'; at: number };

export interface HealthTransition {
  state: 'online' | 'offline';
  reason: StatusReason;
  at: number;
}

/** Silence longer than this many heartbeats means offline, whatever the TCP link says. */
export const SILENCE_HEARTBEATS = 1.5;

export function silenceLimitMs(heartbeatSeconds: number): number {
  return heartbeatSeconds * 1000 * SILENCE_HEARTBEATS;
}

/**
 * The next state, or null when the input changes nothing.
 * - A retained status read at subscribe time is old news: it may say what the
 *   state was, but it proves no activity now, so it moves an `unknown` device
 *   only, with the reason it implies.
 * - A live `offline` status is the last will unless the device said shutdown
 *   (MQTT discards the will on a clean DISCONNECT [MQTT-3.1.2-10], so a device
 *   leaving on purpose publishes its own offline status first).
 * - Silence beyond 1.5 heartbeats since the last activity (or since `watchSince`,
 *   the gateway's start, if later) is a timeout.
 */
export function nextHealthState(
  current: HealthSnapshot,
  input: HealthInput,
  heartbeatSeconds: number,
  watchSince = 0,
): HealthTransition | null {
  switch (input.kind) {
    case 'status': {
      if (input.isRetained && current.state !== 'unknown') return null;
      if (input.state === 'online') {
        return current.state === 'online' ? null : { state: 'online', reason: 'connected', at: input.at };
      }
      if (current.state === 'offline') return null;
      return { state: 'offline', reason: input.isShutdown ? 'clean-disconnect' : 'will', at: input.at };
    }
    case 'activity':
      return current.state === 'online' ? null : { state: 'online', reason: 'activity', at: input.at };
    case 'credentials-revoked':
      return current.state === 'offline' ? null : { state: 'offline', reason: 'credentials-revoked', at: input.at };
    case 'tick': {
      if (current.state !== 'online') return null;
      const since = Math.max(current.lastActivityAt ?? 0, watchSince);
      return input.at - since > silenceLimitMs(heartbeatSeconds) ? { state: 'offline', reason: 'timeout', at: input.at } : null;
    }
  }
}
