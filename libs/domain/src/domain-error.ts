/**
 * Stable error codes shared by the HTTP API and device acks. One Nest filter maps
 * a code to an HTTP status; the message is written for the clerk who reads it.
 */
export const DOMAIN_ERROR_CODES = [
  'validation-failed',
  'unauthorized',
  'not-found',
  'card-already-bound',
  'device-id-taken',
  'unknown-community',
  'conflict',
] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
