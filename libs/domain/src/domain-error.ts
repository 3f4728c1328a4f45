/**
 * Stable error codes shared by the HTTP API and device acks. One Nest filter maps
 * a code to an HTTP status; the message is written for the clerk who reads it.
 */
export const DOMAIN_ERROR_CODES = [
  'validation-failed',
  'unauthorized',
  'not-found',
  'card-already-bound',
  'card-not-active',
  'unsupported-media-type',
  'device-id-taken',
  'unknown-community',
  'conflict',
  'forbidden',
  'idempotency-key-reused',
  'rate-limited',
  'insufficient-points',
  'already-reversed',
  'already-closed',
  'out-of-stock',
  'item-inactive',
  'already-cancelled',
  'cancel-window-passed',
  'gift-limit-reached',
  'wrong-community',
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
