import type { AuditEntryInput, JsonValue } from '../../../../libs/persistence/src';

const AUDIT_BEFORE = Symbol('jifen:audit-before');

type RequestCarryingBefore = { [AUDIT_BEFORE]?: unknown };

/**
 * For update handlers: what the record looked like before the change. The
 * audit interceptor stores it as `before` next to the answer as `after`.
 *   auditBefore(req, await this.devices.find(id));
 */
export function auditBefore(req: object, value: unknown): void {
  (req as RequestCarryingBefore)[AUDIT_BEFORE] = value;
}

export function takeAuditBefore(req: object): unknown {
  return (req as RequestCarryingBefore)[AUDIT_BEFORE];
}

/** Keys whose values are secrets shown once (device passwords, API tokens): never stored in the log. */
const SECRET_KEY = /^(password|token|secret|passwordHash|tokenHash)$/i;
export const REDACTED = '[redacted]';

/** The value as JSON (what the client received), with secrets replaced. */
export function toAuditJson(value: unknown): JsonValue {
  if (value === undefined) return null;
  const text = JSON.stringify(value, (key, v: unknown) => (key !== '' && SECRET_KEY.test(key) && v != null ? REDACTED : v));
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}

/** `communities` -> `community`, `dead-letters` -> `dead-letter`, `staff` -> `staff`. */
export function singular(word: string): string {
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

const isParam = (segment: string) => segment.startsWith(':');
const paramName = (segment: string) => segment.slice(1).replace(/\W.*$/, '');

/**
 * What a write was about, from its route: `POST /api/v1/residents` -> the new
 * resident (its id from the answer); `PATCH /api/v1/devices/:id` -> that device;
 * `POST /api/v1/residents/:id/cards` -> the resident, unless the answer has an id.
 */
export function describeAuditEntity(
  routePattern: string,
  params: Record<string, string | undefined>,
  response: unknown,
): { entityType: string; entityId: string | null } {
  const segments = routePattern.split('/').filter(Boolean);
  while (segments.length > 1 && (segments[0] === 'api' || /^v\d+$/.test(segments[0]!))) segments.shift();
  const last = segments[segments.length - 1];
  const responseId = (response as { id?: unknown } | null)?.id;
  if (last !== undefined && !isParam(last) && (typeof responseId === 'string' || typeof responseId === 'number')) {
    return { entityType: singular(last), entityId: String(responseId) };
  }
  for (let i = segments.length - 1; i > 0; i--) {
    const segment = segments[i]!;
    const before = segments[i - 1]!;
    if (isParam(segment) && !isParam(before)) return { entityType: singular(before), entityId: params[paramName(segment)] ?? null };
  }
  const literal = [...segments].reverse().find((s) => !isParam(s));
  return { entityType: literal ? singular(literal) : 'unknown', entityId: null };
}

export interface AuditedRequest {
  method: string;
  /** The route pattern (`/api/v1/residents/:id/cards`), or the path if unknown. */
  routePattern: string;
  params: Record<string, string | undefined>;
  actorLabel: string | null;
}

/** The audit record of a successful write. */
export function auditEntryFor(req: AuditedRequest, before: unknown, after: unknown): AuditEntryInput {
  const normalisedPattern = req.routePattern.replace(/\/+$/, '') || '/';
  return {
    actor: req.actorLabel ?? 'anonymous',
    action: `${req.method.toUpperCase()} ${normalisedPattern}`,
    ...describeAuditEntity(normalisedPattern, req.params, after),
    before: toAuditJson(before),
    after: toAuditJson(after),
  };
}
