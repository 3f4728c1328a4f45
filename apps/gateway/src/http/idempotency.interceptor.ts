import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { type Observable, defer, lastValueFrom, throwError } from 'rxjs';
import { IdempotencyRepository } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';
import { GATEWAY_LOGGER } from './audit.interceptor';
import { IdempotentCalls, asJson, parseIdempotencyKey } from './idempotent-call';
import type { RequestWithActor } from './roles';

const IDEMPOTENT_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * `Idempotency-Key` on a write: a retry gets the first successful answer with
 * `Idempotent-Replayed: true` and the handler does not run again
 * (idempotent-call.ts). Registered before the audit interceptor, so a replay
 * is not audited twice.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly calls: IdempotentCalls;

  constructor(@Inject(IdempotencyRepository) repository: IdempotencyRepository, @Inject(GATEWAY_LOGGER) logger: Logger) {
    this.calls = new IdempotentCalls(repository, {
      onStoreFailed: (err) => logger.error({ err }, 'could not store the answer of a request with an Idempotency-Key'),
    });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<RequestWithActor>();
    if (!IDEMPOTENT_METHODS.has(req.method)) return next.handle();
    let key: string | null;
    try {
      key = parseIdempotencyKey(req.headers['idempotency-key']);
    } catch (err) {
      return throwError(() => err);
    }
    if (key === null || !req.actor) return next.handle();
    const res = context.switchToHttp().getResponse<Response>();
    return defer(async () => {
      const answer = await this.calls.run(
        { actor: req.actor!.label, key, method: req.method, path: req.path, body: req.body as unknown },
        async () => ({ body: asJson(await lastValueFrom(next.handle(), { defaultValue: undefined })), status: res.statusCode }),
      );
      if (answer.isReplayed) {
        res.status(answer.status);
        res.setHeader('Idempotent-Replayed', 'true');
      }
      return answer.body;
    });
  }
}
