/** How far an event may be in the past before it is refused (PROTOCOL.md: default 7 days). */
export const DEFAULT_LATENESS_MS = 7 * 24 * 60 * 60 * 1000;
/** A device clock this far ahead is not trusted: arrival time is used instead. */
export const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

export type EventTime = { kind: 'on-time'; occurredAt: Date; isClockAhead: boolean } | { kind: 'too-late'; occurredAt: Date };

/**
 * Decides which time an event is judged by (PROTOCOL.md, gateway duties): the
 * device's `occurredAt`, unless it is more than 5 min ahead of arrival (then the
 * arrival time, flagged) or older than the lateness window (then too late).
 */
export function judgeEventTime(occurredAt: Date, receivedAt: Date, latenessMs: number = DEFAULT_LATENESS_MS): EventTime {
  const ahead = occurredAt.getTime() - receivedAt.getTime();
  if (ahead > FUTURE_TOLERANCE_MS) return { kind: 'on-time', occurredAt: receivedAt, isClockAhead: true };
  if (-ahead > latenessMs) return { kind: 'too-late', occurredAt };
  return { kind: 'on-time', occurredAt, isClockAhead: false };
}
