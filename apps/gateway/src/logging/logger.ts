import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Secrets that must never reach a log line even if a caller passes a whole
 * object (a device's login, a provisioning answer, a request body): pino
 * replaces them wherever these paths match.
 */
export const REDACTED_LOG_PATHS = [
  'password',
  '*.password',
  'credentials.password',
  '*.credentials.password',
  'mqtt.password',
  '*.mqtt.password',
  'passwordHash',
  '*.passwordHash',
  'secret',
  '*.secret',
  'secretHash',
  '*.secretHash',
  'provisioningSecret',
  '*.provisioningSecret',
  'token',
  '*.token',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = { level, base: { service: 'jifen-gateway' }, redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/** Routes Nest's own log lines into pino, so there is one structured stream. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
