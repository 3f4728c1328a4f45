import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from './roles';

export abstract class HealthProbe {
  abstract check(): Promise<{ broker: boolean; database: boolean; subscriptions: boolean; details: Record<string, unknown> }>;
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(@Inject(HealthProbe) private readonly probe: HealthProbe) {}

  /** Liveness: the process answers (a supervisor restarts it when this stops answering). */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: 200 while the process answers HTTP, whatever its dependencies' })
  live() {
    return { status: 'alive', uptimeSeconds: Math.round(process.uptime()) };
  }

  /** Readiness, for a load balancer or Kubernetes: the same answer as GET /health. */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: 200 only when the broker, the database and the subscriptions are; else 503' })
  ready(@Res() res: Response) {
    return this.health(res);
  }

  @Get()
  @ApiOperation({ summary: 'Ready only when the broker, the database and the subscriptions are' })
  async health(@Res() res: Response) {
    const result = await this.probe.check();
    const isReady = result.broker && result.database && result.subscriptions;
    res.status(isReady ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json({ status: isReady ? 'ready' : 'not-ready', ...result });
  }
}
