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

  @Get()
  @ApiOperation({ summary: 'Ready only when the broker, the database and the subscriptions are' })
  async health(@Res() res: Response) {
    const result = await this.probe.check();
    const isReady = result.broker && result.database && result.subscriptions;
    res.status(isReady ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json({ status: isReady ? 'ready' : 'not-ready', ...result });
  }
}
