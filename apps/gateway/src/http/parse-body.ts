import type { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { describeIssues } from '../../../../libs/protocol/src';

/** Validates a request body with its zod schema; a 400 names each bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  throw new DomainError('validation-failed', describeIssues(result.error.issues), {
    fields: result.error.issues.map((i) => ({ field: i.path.join('.'), problem: i.message })),
  });
}
