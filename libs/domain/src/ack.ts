import type { Ack } from '../../protocol/src';
import type { EventOutcome } from './judge-event';

/** Builds the ack with a fixed key order, so the stored bytes are canonical. */
export function buildAck(eventId: string, outcome: EventOutcome): Ack {
  const ack: Ack = {
    eventId,
    result: outcome.result,
    points: outcome.points,
    balance: outcome.balanceAfter,
    display: outcome.display,
  };
  if (outcome.reason !== undefined) {
    return { eventId, result: ack.result, points: ack.points, balance: ack.balance, reason: outcome.reason, display: ack.display };
  }
  return ack;
}

/**
 * The bytes published and stored. A repeated event is answered with exactly these
 * bytes again (PROTOCOL.md: "byte-for-byte equal in every field").
 */
export function serializeAck(ack: Ack): string {
  return JSON.stringify(ack);
}
