import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { type AlertRecord, HealthRepository } from '../../../../libs/persistence/src';
import { AlertEngine } from '../health/alert-engine';
import { auditBefore } from './audit.interceptor';
import { AdminAuthGuard } from './admin-auth.guard';
import { assertCommunityAccess } from './community-access';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

const alertQuery = z.object({
  status: z.enum(['open', 'acknowledged', 'resolved', 'unresolved']).optional(),
  deviceId: z.string().min(1).max(200).optional(),
  cause: z.string().min(1).max(64).optional(),
  communityId: z.uuid('communityId must be a community id').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

/**
 * Device alerts (issue #6): list and filter; operators acknowledge (open ->
 * acknowledged) and resolve, with who and when. Both writes are audited.
 */
@ApiTags('alerts')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1/alerts')
export class AlertsController {
  constructor(
    @Inject(HealthRepository) private readonly store: HealthRepository,
    @Inject(AlertEngine) private readonly engine: AlertEngine,
  ) {}

  @Get()
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({ summary: 'Alerts, newest first; filter by status (open, acknowledged, resolved, unresolved), device, cause, community' })
  async list(@Query() query: unknown, @CurrentActor() actor: Actor) {
    const filter = parseBody(alertQuery, query);
    if (filter.communityId) assertCommunityAccess(actor, filter.communityId);
    // Community staff see their community's devices' alerts; failed logins of unknown clients are the district's.
    return { alerts: await this.store.alerts({ ...filter, communityId: actor.communityId ?? filter.communityId }) };
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'Someone is on it: open -> acknowledged (409 already-closed otherwise)' })
  async acknowledge(@Param('id') id: string, @CurrentActor() actor: Actor, @Req() req: object) {
    const alert = await this.visible(id, actor);
    auditBefore(req, alert);
    return this.engine.acknowledge(id, actor.label);
  }

  @Post(':id/resolve')
  @HttpCode(200)
  @Roles('admin', 'operator')
  @ApiOperation({
    summary: 'Close it (open or acknowledged -> resolved); it does not open again for the same cause until the condition has cleared once',
  })
  async resolve(@Param('id') id: string, @CurrentActor() actor: Actor, @Req() req: object) {
    const alert = await this.visible(id, actor);
    auditBefore(req, alert);
    return this.engine.resolve(id, actor.label);
  }

  private async visible(id: string, actor: Actor): Promise<AlertRecord> {
    const alert = await this.store.alert(id);
    if (!alert) throw new DomainError('not-found', `没有告警 ${id} / no alert ${id}`);
    if (actor.communityId !== null) {
      const device = alert.deviceId ? await this.store.fleetDevice(alert.deviceId) : null;
      if (!device) throw new DomainError('forbidden', '此告警不属于您的社区 / this alert is not about your community');
      assertCommunityAccess(actor, device.communityId);
    }
    return alert;
  }
}
