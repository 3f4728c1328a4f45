import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError, type DomainErrorCode } from '../../../../libs/domain/src';
import type { Logger } from '../logging/logger';

const STATUS_BY_CODE: Record<DomainErrorCode, number> = {
  'validation-failed': 400,
  unauthorized: 401,
  'not-found': 404,
  'card-already-bound': 409,
  'device-id-taken': 409,
  'unknown-community': 400,
  conflict: 409,
};

/** Every API error has one shape: `{ "error": { "code", "message" } }`. */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const { status, code, message, details } = this.describe(exception);
    if (status >= 500) this.logger.error({ err: exception }, 'unhandled API error');
    res.status(status).json({ error: { code, message, ...(details ? { details } : {}) } });
  }

  private describe(exception: unknown): { status: number; code: string; message: string; details?: Record<string, unknown> } {
    if (exception instanceof DomainError) {
      return {
        status: STATUS_BY_CODE[exception.code],
        code: exception.code,
        message: exception.message,
        ...(exception.details ? { details: exception.details } : {}),
      };
    }
    // Nest wraps body-parser errors in an HttpException whose cause is the original.
    const bodyParser = ((exception as { cause?: unknown })?.cause ?? exception) as { type?: string };
    if (bodyParser?.type === 'entity.parse.failed') {
      return { status: 400, code: 'invalid-json', message: 'the request body is not valid JSON' };
    }
    if (bodyParser?.type === 'entity.too.large') {
      return { status: 413, code: 'body-too-large', message: 'the request body is too large' };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = status === 404 ? 'not-found' : status === 401 ? 'unauthorized' : `http-${status}`;
      return { status, code, message: exception.message };
    }
    return { status: 500, code: 'internal', message: 'something went wrong on the server; it has been logged' };
  }
}
