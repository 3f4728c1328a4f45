import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError, type DomainErrorCode } from '../../../../libs/domain/src';
import type { Logger } from '../logging/logger';

const STATUS_BY_CODE: Record<DomainErrorCode, number> = {
  'validation-failed': 400,
  unauthorized: 401,
  'not-found': 404,
  'card-already-bound': 409,
  'card-not-active': 409,
  'unsupported-media-type': 415,
  'device-id-taken': 409,
  'unknown-community': 400,
  conflict: 409,
  forbidden: 403,
  'idempotency-key-reused': 422,
  'rate-limited': 429,
  'insufficient-points': 409,
  'already-reversed': 409,
  'already-closed': 409,
  'out-of-stock': 409,
  'item-inactive': 409,
  'already-cancelled': 409,
  'cancel-window-passed': 409,
  'gift-limit-reached': 409,
  'wrong-community': 422,
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
      const limit = (bodyParser as { limit?: unknown }).limit;
      const size =
        typeof limit !== 'number' ? null : limit >= 1 << 20 ? `${Math.round(limit / (1 << 20))} MB` : `${Math.round(limit / 1024)} KB`;
      const mb = size ? ` (${size} at most)` : '';
      return {
        status: 413,
        code: 'body-too-large',
        message: `请求内容太大${mb}：CSV 文件请拆成几个小文件分别导入 / the request body is too large${mb}; split a CSV file into smaller files`,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = status === 404 ? 'not-found' : status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : `http-${status}`;
      return { status, code, message: exception.message };
    }
    return { status: 500, code: 'internal', message: 'something went wrong on the server; it has been logged' };
  }
}
