import { baseTap } from './fixtures/events';
import { decodePayload, describeIssues, readableEventId, type DecodeFailure } from './decode';
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
