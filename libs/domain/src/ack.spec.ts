import { ackSchema } from '../../protocol/src';
import { buildAck, serializeAck } from './ack';
import { creditedDisplay, pendingUnknownCardDisplay } from './display-lines';
import { type EventOutcome, rejectedOutcome } from './judge-event';

const EVENT_ID = '01JD3K8Q4Z6W2X9Y7V5T3R1P0N';

const credited: EventOutcome = {
  result: 'credited',
  points: 9,
  creditPoints: 9,
  residentId: 'resident-1',
  balanceAfter: 129,
  display: creditedDisplay(9, 129),
};

const pending: EventOutcome = {
  result: 'pending',
  reason: 'unknown-card',
  points: 9,
  creditPoints: 0,
  residentId: null,
  balanceAfter: null,
  display: pendingUnknownCardDisplay(9),
};

const rejected = rejectedOutcome('too-late', { residentId: 'resident-1', communityId: 'c', balance: 120 });

/** The same outcome with its own keys inserted in reverse order. */
function reversed(outcome: EventOutcome): EventOutcome {
  return Object.fromEntries(Object.entries(outcome).reverse()) as unknown as EventOutcome;
}

describe('buildAck', () => {
  it('orders the keys of a credited ack eventId, result, points, balance, display', () => {
    expect(Object.keys(buildAck(EVENT_ID, credited))).toEqual(['eventId', 'result', 'points', 'balance', 'display']);
  });

  it.each([
    ['pending', pending],
    ['rejected', rejected],
  ])('orders the keys of a %s ack eventId, result, points, balance, reason, display', (_, outcome) => {
    expect(Object.keys(buildAck(EVENT_ID, outcome))).toEqual(['eventId', 'result', 'points', 'balance', 'reason', 'display']);
  });

  it('serializes a credited ack to exactly the canonical bytes', () => {
    expect(serializeAck(buildAck(EVENT_ID, credited))).toBe(
      `{"eventId":"${EVENT_ID}","result":"credited","points":9,"balance":129,"display":{"zh":"+9 积分，余额 129","en":"+9 points, balance 129"}}`,
    );
  });

  it('serializes a rejected ack to exactly the canonical bytes', () => {
    expect(serializeAck(buildAck(EVENT_ID, rejected))).toBe(
      `{"eventId":"${EVENT_ID}","result":"rejected","points":0,"balance":120,"reason":"too-late",` +
        `"display":{"zh":"记录已过期，请到服务台处理","en":"Record too old: please see the desk"}}`,
    );
  });

  it.each([
    ['credited', credited],
    ['pending', pending],
    ['rejected', rejected],
  ])('gives byte-identical %s acks for the same outcome whatever order its fields were set in', (_, outcome) => {
    const first = serializeAck(buildAck(EVENT_ID, outcome));
    expect(serializeAck(buildAck(EVENT_ID, { ...outcome }))).toBe(first);
    expect(serializeAck(buildAck(EVENT_ID, reversed(outcome)))).toBe(first);
  });

  it('leaves out resident and ledger details that are not part of the ack', () => {
    const ack = buildAck(EVENT_ID, credited);
    expect(ack).not.toHaveProperty('residentId');
    expect(ack).not.toHaveProperty('creditPoints');
    expect(ack).not.toHaveProperty('balanceAfter');
  });

  it('has no reason key at all when credited', () => {
    expect(Object.prototype.hasOwnProperty.call(buildAck(EVENT_ID, credited), 'reason')).toBe(false);
    expect(serializeAck(buildAck(EVENT_ID, credited))).not.toContain('reason');
  });

  it.each([
    ['pending', pending, 'unknown-card'],
    ['rejected', rejected, 'too-late'],
  ])('carries the reason when %s', (_, outcome, reason) => {
    expect(buildAck(EVENT_ID, outcome).reason).toBe(reason);
  });

  it('carries a null balance for an unknown card', () => {
    expect(buildAck(EVENT_ID, pending).balance).toBeNull();
  });

  it.each([
    ['credited', credited],
    ['pending', pending],
    ['rejected', rejected],
    ['rejected without a holder', rejectedOutcome('unknown-card')],
  ])('builds a %s ack that passes the protocol ack schema unchanged', (_, outcome) => {
    const ack = buildAck(EVENT_ID, outcome);
    const parsed = ackSchema.safeParse(JSON.parse(serializeAck(ack)));
    expect(parsed.error?.issues).toBeUndefined();
    expect(parsed.data).toEqual(ack);
  });
});
