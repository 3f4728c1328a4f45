/** How far an event may be in the past before it is refused (PROTOCOL.md: default 7 days). */
export const DEFAULT_LATENESS_MS = 7 * 24 * 60 * 60 * 1000;
/** A device clock this far ahead is not trusted: arrival time is used instead. */
export const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

/**
 * Further ahead than this, the device clock is not drifting but broken (an RTC
 * reset to 2099, a wrong year after a firmware update): the event is refused
 * `clock-ahead`, as one older than the lateness window is refused `too-late`.
 */
export const DEFAULT_FUTURE_LIMIT_MS = 24 * 60 * 60 * 1000;

export type EventTime =
  | { kind: 'on-time'; occurredAt: Date; isClockAhead: boolean }
  | { kind: 'too-late'; occurredAt: Date }
  | { kind: 'clock-ahead'; occurredAt: Date };

/**
 * Decides which time an event is judged by (PROTOCOL.md, gateway duties): the
 * device's `occurredAt`; more than 5 min ahead of arrival, the arrival time,
 * flagged; more than `futureLimitMs` ahead, refused (clock-ahead); older than
 * the lateness window, refused (too-late).
 */
export function judgeEventTime(
  occurredAt: Date,
  receivedAt: Date,
  latenessMs: number = DEFAULT_LATENESS_MS,
  futureLimitMs: number = DEFAULT_FUTURE_LIMIT_MS,
): EventTime {
  const ahead = occurredAt.getTime() - receivedAt.getTime();
  if (ahead > futureLimitMs) return { kind: 'clock-ahead', occurredAt };
  if (ahead > FUTURE_TOLERANCE_MS) return { kind: 'on-time', occurredAt: receivedAt, isClockAhead: true };
  if (-ahead > latenessMs) return { kind: 'too-late', occurredAt };
  return { kind: 'on-time', occurredAt, isClockAhead: false };
}
