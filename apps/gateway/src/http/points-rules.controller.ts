import { Body, Controller, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { pointsRulesSchema } from '../../../../libs/domain/src';
import { PointsRulesRepository } from '../../../../libs/persistence/src';
import { IngestService } from '../ingest/ingest.service';
import { AdminAuthGuard } from './admin-auth.guard';
import { parseId } from './communities.controller';
import { assertCommunityAccess } from './community-access';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

export const addRulesBody = z.object({
  rules: pointsRulesSchema,
  /** When the version starts to apply (to events that occur from then on); default now. */
  effectiveFrom: z.iso.datetime({ offset: true, message: 'effectiveFrom must be an ISO time, e.g. 2026-12-01T00:00:00+08:00' }).optional(),
});

@ApiTags('battery bins')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1/communities/:id/points-rules')
export class PointsRulesController {
  constructor(
    @Inject(PointsRulesRepository) private readonly rules: PointsRulesRepository,
    @Inject(IngestService) private readonly ingest: IngestService,
  ) {}

  @Get()
  @Roles('admin', 'credit_admin', 'credit_collector', 'operator', 'auditor')
  @ApiOperation({ summary: "The community's points rules, every version (0: its per-unit rates, no caps, no checks)" })
  async list(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    const versions = await this.rules.list(communityId);
    return { current: versions[versions.length - 1], versions };
  }

  @Post()
  @HttpCode(201)
  @Roles('admin', 'credit_admin')
  @ApiOperation({
    summary: 'Add a points rules version: rates, weight bands, caps per day and month, plausibility',
    description:
      'Applies to deposits that occur from effectiveFrom (default now) on; earlier deposits keep the version they were judged by. Caps count by the community time zone.',
  })
  @ApiBody({ schema: openApiSchema(addRulesBody) })
  async add(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    const input = parseBody(addRulesBody, body);
    const version = await this.rules.add({
      communityId,
      rules: input.rules,
      ...(input.effectiveFrom ? { effectiveFrom: new Date(input.effectiveFrom) } : {}),
      actor: actor.label,
    });
    await this.ingest.forgetCommunityRules(communityId);
    return version;
  }
}
