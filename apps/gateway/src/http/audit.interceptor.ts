import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import { type Observable, mergeMap } from 'rxjs';
import { AuditLogRepository } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';
import { auditEntryFor, takeAuditBefore } from './audit-entry';
import type { RequestWithActor } from './roles';

export { auditBefore } from './audit-entry';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Where the gateway's pino logger is provided to Nest. */
export const GATEWAY_LOGGER = Symbol('jifen:logger');

/**
 * Records every successful write (not GET) through the HTTP API: who, which
 * route, which entity, `before` (set by the handler with auditBefore) and
 * `after` (the answer, secrets redacted). The answer waits for the record; if
 * the record cannot be written, the write still stands and the whole entry is
 * logged as an error, so it is not lost silently.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    @Inject(AuditLogRepository) private readonly auditLog: AuditLogRepository,
    @Inject(GATEWAY_LOGGER) private readonly logger: Logger,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<RequestWithActor>();
    // No actor: a public route, i.e. the broker's auth callbacks (one per device connect), which are not staff writes.
    if (READ_METHODS.has(req.method) || !req.actor) return next.handle();
    return next.handle().pipe(
      mergeMap(async (body: unknown) => {
        await this.record(req, body);
        return body;
      }),
    );
  }

  private async record(req: RequestWithActor, body: unknown): Promise<void> {
    let entry;
    try {
      const route = (req as { route?: { path?: unknown } }).route;
      entry = auditEntryFor(
        {
          method: req.method,
          routePattern: typeof route?.path === 'string' ? route.path : req.path,
          params: req.params as Record<string, string | undefined>,
          actorLabel: req.actor?.label ?? null,
        },
        takeAuditBefore(req),
        body,
      );
      await this.auditLog.record(entry);
    } catch (err) {
      this.logger.error({ err, audit: entry, method: req.method, path: req.path }, 'could not write the audit record of an API write');
    }
  }
}
