import { type z } from 'zod';
import { type AckReason, MAX_PAYLOAD_BYTES, eventIdSchema } from './payloads';

export type DecodeFailure =
  | { ok: false; error: 'payload-too-large'; message: string }
  | { ok: false; error: 'not-utf8-json'; message: string }
  | { ok: false; error: 'not-an-object'; message: string }
  | { ok: false; error: 'schema'; message: string; issues: z.core.$ZodIssue[]; raw: Record<string, unknown> };

export type DecodeResult<T> = { ok: true; value: T } | DecodeFailure;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns raw MQTT payload bytes into a typed value, or says exactly why not.
 * Errors are returned as values: an MQTT handler must never throw.
 */
export function decodePayload<S extends z.ZodType>(bytes: Uint8Array, schema: S): DecodeResult<z.output<S>> {
  if (bytes.byteLength > MAX_PAYLOAD_BYTES) {
    return { ok: false, error: 'payload-too-large', message: `payload is ${bytes.byteLength} bytes; the limit is ${MAX_PAYLOAD_BYTES}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    return { ok: false, error: 'not-utf8-json', message: `payload is not UTF-8 JSON: ${(err as Error).message}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, error: 'not-an-object', message: 'payload must be a JSON object' };
  }
  const result = schema.safeParse(parsed);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    error: 'schema',
    message: describeIssues(result.error.issues),
    issues: result.error.issues,
    raw: parsed as Record<string, unknown>,
  };
}

/** One line per problem, naming the field: "items.0.count: Too big: expected number to be <=500". */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`).join('; ');
}

/**
 * The eventId of an event that failed validation, when it can still be read, so
 * the device gets a `rejected`/`invalid-event` ack instead of resending for ever.
 */
export function readableEventId(failure: DecodeFailure): string | null {
  if (failure.error !== 'schema') return null;
  const id = eventIdSchema.safeParse(failure.raw['eventId']);
  return id.success ? id.data : null;
}

/**
 * The ack reason for an event that failed the schema: a deposit's specific
 * problem when it has one (the bin's firmware, and the desk reading the
 * reconciliation, can tell a scale fault from a counting fault), else
 * `invalid-event`. With several problems, the first of: no items, an unknown
 * battery kind, a bad count, a bad weight.
 */
export function invalidEventReason(failure: DecodeFailure): AckReason {
  if (failure.error !== 'schema' || failure.raw['type'] !== 'deposit') return 'invalid-event';
  const found = new Set<AckReason>();
  for (const issue of failure.issues) {
    const [field, , itemField] = issue.path;
    if (field === 'items' && issue.path.length === 1) found.add('no-items');
    else if (field === 'items' && itemField === 'kind') found.add('unknown-battery-kind');
    else if (field === 'items' && itemField === 'count') found.add('invalid-count');
    else if (field === 'weightGrams') found.add('invalid-weight');
  }
  const order: AckReason[] = ['no-items', 'unknown-battery-kind', 'invalid-count', 'invalid-weight'];
  return order.find((r) => found.has(r)) ?? 'invalid-event';
}
