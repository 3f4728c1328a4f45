import { baseTap } from './fixtures/events';
import { decodePayload, describeIssues, invalidEventReason, readableEventId, type DecodeFailure } from './decode';
import { MAX_PAYLOAD_BYTES, deviceEventSchema, statusSchema, telemetrySchema } from './payloads';

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

const tap = baseTap;

function failure(value: unknown): DecodeFailure {
  const result = decodePayload(bytes(value), deviceEventSchema);
  if (result.ok) throw new Error('expected a failure');
  return result;
}

describe('decodePayload', () => {
  it('returns the parsed value without unknown fields', () => {
    expect(decodePayload(bytes({ state: 'online', extra: 1 }), statusSchema)).toEqual({
      ok: true,
      value: { state: 'online' },
    });
  });

  it('refuses a payload over 8 KiB before parsing it, naming both sizes', () => {
    const result = decodePayload(new Uint8Array(MAX_PAYLOAD_BYTES + 1).fill(0x20), telemetrySchema);
    expect(result).toMatchObject({ ok: false, error: 'payload-too-large' });
    expect(!result.ok && result.message).toContain(`${MAX_PAYLOAD_BYTES + 1} bytes`);
  });

  it('reports schema failures field by field and keeps the raw object', () => {
    const result = decodePayload(bytes({ ...tap, seq: -1, cardUid: 'a1' }), deviceEventSchema);
    expect(result).toMatchObject({ ok: false, error: 'schema', raw: { ...tap, seq: -1, cardUid: 'a1' } });
    if (result.ok || result.error !== 'schema') throw new Error('expected a schema failure');
    expect(result.message).toMatch(/^seq: .*; cardUid: /);
    expect(result.issues.map((i) => i.path)).toEqual([['seq'], ['cardUid']]);
  });
});

describe('describeIssues', () => {
  it('names the payload itself when the issue has no path', () => {
    const result = statusSchema.safeParse('online');
    expect(describeIssues(result.error?.issues ?? [])).toMatch(/^\(payload\): /);
  });

  it('joins nested paths with dots', () => {
    const result = deviceEventSchema.safeParse({ ...tap, type: 'deposit', items: [{ kind: 'alkaline', count: 0 }] });
    expect(describeIssues(result.error?.issues ?? [])).toMatch(/^items\.0\.count: /);
  });
});

describe('readableEventId', () => {
  it('returns the eventId of an otherwise invalid event', () => {
    expect(readableEventId(failure({ ...tap, occurredAt: 'yesterday' }))).toBe(tap.eventId);
  });

  it('returns the eventId when only the type is unknown', () => {
    expect(readableEventId(failure({ ...tap, type: 'weigh' }))).toBe(tap.eventId);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['65 characters long', 'e'.repeat(65)],
    ['a number', 131],
    ['an object', { id: 'x' }],
  ])('returns null when the eventId is %s', (_, eventId) => {
    expect(readableEventId(failure({ ...tap, eventId }))).toBeNull();
  });

  it('returns null when the payload never became an object', () => {
    const result = decodePayload(new TextEncoder().encode('[1]'), deviceEventSchema);
    expect(!result.ok && readableEventId(result)).toBeNull();
  });
});

describe('invalidEventReason', () => {
  const deposit = {
    eventId: 'e-1',
    seq: 1,
    occurredAt: '2026-11-23T08:00:00.000Z',
    type: 'deposit',
    cardUid: '0A0B0C0D',
    items: [{ kind: 'alkaline', count: 2 }],
    weightGrams: 48,
  };
  const reasonOf = (payload: object) => {
    const decoded = decodePayload(Buffer.from(JSON.stringify(payload)), deviceEventSchema);
    if (decoded.ok) throw new Error('expected the payload to fail the schema');
    return invalidEventReason(decoded);
  };

  it.each<[string, object, string]>([
    ['a negative count', { items: [{ kind: 'alkaline', count: -3 }] }, 'invalid-count'],
    ['a zero count', { items: [{ kind: 'alkaline', count: 0 }] }, 'invalid-count'],
    ['an absurd count (501)', { items: [{ kind: 'button', count: 501 }] }, 'invalid-count'],
    ['a fractional count', { items: [{ kind: 'button', count: 1.5 }] }, 'invalid-count'],
    ['a count sent as text', { items: [{ kind: 'button', count: '2' }] }, 'invalid-count'],
    ['a negative weight', { weightGrams: -1 }, 'invalid-weight'],
    ['an absurd weight (50,001 g)', { weightGrams: 50_001 }, 'invalid-weight'],
    ['an unknown battery kind', { items: [{ kind: 'plutonium', count: 1 }] }, 'unknown-battery-kind'],
    ['no items', { items: [] }, 'no-items'],
    ['items missing', { items: undefined }, 'no-items'],
    [
      'a bad count in the second item',
      {
        items: [
          { kind: 'alkaline', count: 1 },
          { kind: 'lithium', count: -1 },
        ],
      },
      'invalid-count',
    ],
    ['an unknown kind and a bad count: the kind is named first', { items: [{ kind: 'nickel', count: -1 }] }, 'unknown-battery-kind'],
    ['a bad card uid only', { cardUid: 'not-hex' }, 'invalid-event'],
    ['a malformed occurredAt', { occurredAt: 'yesterday' }, 'invalid-event'],
  ])('%s → %s', (_, change, reason) => {
    expect(reasonOf({ ...deposit, ...change })).toBe(reason);
  });

  it('answers invalid-event for a tap or an unknown type, whatever the field', () => {
    expect(reasonOf({ eventId: 'e-2', seq: 2, occurredAt: deposit.occurredAt, type: 'tap', cardUid: 'zz' })).toBe('invalid-event');
    expect(reasonOf({ ...deposit, type: 'teleport' })).toBe('invalid-event');
  });

  it('answers invalid-event for payloads that never reached the schema', () => {
    expect(invalidEventReason(decodePayload(Buffer.from('not json'), deviceEventSchema) as DecodeFailure)).toBe('invalid-event');
  });
});
