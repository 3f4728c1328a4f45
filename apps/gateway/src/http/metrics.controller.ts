import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExtension, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { DomainError } from '../../../../libs/domain/src';
import { GatewayMetrics } from '../health/gateway-metrics';
import { Public } from './roles';
import { TokenAuthenticator } from './token-authenticator';

/** METRICS_ACCESS and METRICS_TOKEN, as parsed at boot. */
export abstract class MetricsAccess {
  abstract readonly mode: 'token' | 'public';
  abstract readonly token: string | undefined;
}

const READERS = new Set(['admin', 'operator', 'auditor']);

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * GET /metrics in Prometheus' text format. Public when METRICS_ACCESS=public;
 * otherwise the scraper sends `Authorization: Bearer <METRICS_TOKEN>` (its
 * bearer_token setting) or a staff token of an admin, operator or auditor.
 */
@ApiTags('health')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
    @Inject(MetricsAccess) private readonly access: MetricsAccess,
    @Inject(TokenAuthenticator) private readonly tokens: TokenAuthenticator,
  ) {}

  @Get()
  // Checked here, not by the guard (METRICS_ACCESS may open it); the API docs still show who may call it.
  @ApiExtension('x-roles', ['admin', 'operator', 'auditor'])
  @ApiOperation({
    summary: 'Prometheus metrics: messages in, acks out by outcome, batch sizes, commit and ack latency, queues, devices, alerts',
  })
  async scrape(@Req() req: Request, @Res() res: Response) {
    if (this.access.mode === 'token') await this.check(req);
    res
      .status(200)
      .type(this.metrics.contentType)
      .send(await this.metrics.text());
  }

  private async check(req: Request): Promise<void> {
    const sent = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (sent && this.access.token && sameSecret(sent, this.access.token)) return;
    const actor = await this.tokens.authenticate(req);
    if (!READERS.has(actor.role)) {
      throw new DomainError('forbidden', 'metrics are for admin, operator and auditor tokens, or the METRICS_TOKEN');
    }
  }
}
