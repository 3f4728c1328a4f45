import { createHash } from 'node:crypto';
import { DomainError } from '../../../../libs/domain/src';
import type { IdempotencyRepository, IdempotentRequestRecord, JsonValue } from '../../../../libs/persistence/src';

export const IDEMPOTENCY_KEY_MAX_LENGTH = 200;

export interface IdempotentCallOptions {
  /** How long a retry waits for a first run that is still working, before 409. */
  waitMs: number;
  pollMs: number;
  /** A first run still unfinished after this is taken to have died with its process. */
  staleAfterMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  onStoreFailed: (err: unknown) => void;
}

export const DEFAULT_IDEMPOTENT_CALL_OPTIONS: IdempotentCallOptions = {
  waitMs: 10_000,
  pollMs: 50,
  staleAfterMs: 5 * 60_000,
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  onStoreFailed: () => undefined,
};

export interface IdempotentCallRequest {
  actor: string;
  key: string;
  method: string;
  path: string;
  body: unknown;
}

export interface Answer {
  status: number;
  body: JsonValue;
}

/** Checks the header's value: 1–200 characters. */
export function parseIdempotencyKey(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const key = Array.isArray(header) ? header[0] : header;
  if (!key || key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    throw new DomainError(
      'validation-failed',
      `the Idempotency-Key header must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters; send a fresh random value (such as a UUID) for each new action`,
    );
  }
  return key;
}

/** JSON with object keys sorted: the same body hashes the same whatever its key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** A raw body (a CSV upload) by its bytes; a JSON body by its canonical form. */
export function hashRequestBody(body: unknown): string {
  const hash = createHash('sha256');
  if (body instanceof Uint8Array) return hash.update('bytes:').update(body).digest('hex');
  return hash.update(canonicalJson(body)).digest('hex');
}

/** The answer as the client received it: JSON, nothing else. */
export function asJson(value: unknown): JsonValue {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}

/**
 * Runs a write once per (actor, Idempotency-Key): the first successful answer
 * is stored and a retry with the same method, path and body gets it back
 * without running again. Another body under the same key is refused (422).
 * Of two concurrent requests with one key, the second waits for the first.
 */
export class IdempotentCalls {
  private readonly options: IdempotentCallOptions;

  constructor(
    private readonly repository: Pick<IdempotencyRepository, 'claim' | 'complete' | 'release' | 'find'>,
    options: Partial<IdempotentCallOptions> = {},
  ) {
    this.options = { ...DEFAULT_IDEMPOTENT_CALL_OPTIONS, ...options };
  }

  async run(request: IdempotentCallRequest, handler: () => Promise<Answer>): Promise<Answer & { isReplayed: boolean }> {
    const { actor, key, method, path } = request;
    const bodyHash = hashRequestBody(request.body);
    const deadline = this.options.now() + this.options.waitMs;
    for (;;) {
      const claim = await this.repository.claim({ actor, key, method, path, bodyHash, staleAfterMs: this.options.staleAfterMs });
      let existing: IdempotentRequestRecord | null = claim.claimed ? null : claim.existing;
      if (!existing) return { ...(await this.runClaimed(actor, key, handler)), isReplayed: false };
      while (existing) {
        if (existing.method !== method || existing.path !== path || existing.bodyHash !== bodyHash) {
          throw new DomainError(
            'idempotency-key-reused',
            'this Idempotency-Key was already used for a different request; send a new key for a new action',
            { firstUsedFor: `${existing.method} ${existing.path}` },
          );
        }
        if (existing.status !== 0) return { status: existing.status, body: existing.response, isReplayed: true };
        if (this.options.now() >= deadline) {
          throw new DomainError('conflict', 'the first request with this Idempotency-Key is still being processed; try again in a moment');
        }
        await this.options.sleep(this.options.pollMs);
        existing = await this.repository.find(actor, key);
      }
      // The first run failed and let go of its claim: this one may run.
    }
  }

  private async runClaimed(actor: string, key: string, handler: () => Promise<Answer>): Promise<Answer> {
    let answer: Answer;
    try {
      answer = await handler();
    } catch (err) {
      await this.repository.release(actor, key);
      throw err;
    }
    try {
      await this.repository.complete(actor, key, { status: answer.status, response: answer.body });
    } catch (err) {
      // The write happened: its caller gets the answer. A retry finds the claim
      // unfinished and waits, then 409, until it goes stale.
      this.options.onStoreFailed(err);
    }
    return answer;
  }
}
