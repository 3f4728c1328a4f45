import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { ActivitySiteRepository } from '../../../../libs/persistence/src';
import { IngestService } from '../ingest/ingest.service';
import { AdminAuthGuard } from './admin-auth.guard';
import { auditBefore } from './audit-entry';
import { parseId } from './communities.controller';
import { assertCommunityAccess } from './community-access';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

export const siteBody = z.object({
  name: z.string().trim().min(1, 'name is required, e.g. 社区活动中心').max(100),
  address: z.string().trim().max(200).optional(),
});
export const sitePatchBody = z.object({
  name: z.string().trim().min(1).max(100).optional(),
  address: z.string().trim().max(200).nullable().optional(),
});
const categoryCode = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]{1,32}$/, 'a code of letters, digits, - or _ (at most 32), e.g. C03-04');
export const categoryBody = z.object({
  code: categoryCode,
  parentCode: categoryCode.optional(),
  nameZh: z.string().trim().min(1, 'nameZh is required').max(60),
  nameEn: z.string().trim().min(1, 'nameEn is required').max(80),
});
export const categoryPatchBody = z.object({
  nameZh: z.string().trim().min(1).max(60).optional(),
  nameEn: z.string().trim().min(1).max(80).optional(),
  isActive: z.boolean().optional(),
  sort: z.number().int().min(0).max(1000).optional(),
});

/** Who sets activities up: the organisers (clerk), credit administrators, admin. */
const ORGANISERS = ['admin', 'clerk', 'credit_admin'] as const;
const READERS = ['admin', 'clerk', 'credit_admin', 'credit_collector', 'operator', 'auditor'] as const;

@ApiTags('activities')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1')
export class SitesController {
  constructor(
    @Inject(ActivitySiteRepository) private readonly sites: ActivitySiteRepository,
    @Inject(IngestService) private readonly ingest: IngestService,
  ) {}

  private async site(id: string, actor: Actor) {
    const site = await this.sites.findSite(parseId(id, 'site'));
    if (!site) throw new DomainError('not-found', `no site with id ${id}`);
    assertCommunityAccess(actor, site.communityId);
    return site;
  }

  @Post('communities/:id/sites')
  @HttpCode(201)
  @Roles(...ORGANISERS)
  @ApiOperation({ summary: 'Add an activity site (a community centre, a square)' })
  @ApiBody({ schema: openApiSchema(siteBody) })
  async createSite(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    return this.sites.createSite({ communityId, ...parseBody(siteBody, body) });
  }

  @Get('communities/:id/sites')
  @Roles(...READERS)
  @ApiOperation({ summary: "The community's activity sites, each with its terminals" })
  async listSites(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    return { sites: await this.sites.listSites(communityId) };
  }

  @Get('sites/:id')
  @Roles(...READERS)
  @ApiOperation({ summary: 'One site with its terminals' })
  async getSite(@Param('id') id: string, @CurrentActor() actor: Actor) {
    return this.site(id, actor);
  }

  @Patch('sites/:id')
  @Roles(...ORGANISERS)
  @ApiOperation({ summary: 'Rename a site or change its address' })
  @ApiBody({ schema: openApiSchema(sitePatchBody) })
  async patchSite(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor, @Req() req: object) {
    const before = await this.site(id, actor);
    auditBefore(req, before);
    return this.sites.updateSite(before.id, parseBody(sitePatchBody, body));
  }

  @Put('sites/:id/terminals/:deviceId')
  @Roles('admin', 'clerk', 'credit_admin', 'operator')
  @ApiOperation({
    summary: 'Put a check-in terminal at this site (moving it from another)',
    description:
      "From the terminal's next tap on, it checks residents in to this site's activities. Two terminals at one site share its activities.",
  })
  async assignTerminal(@Param('id') id: string, @Param('deviceId') deviceId: string, @CurrentActor() actor: Actor) {
    const site = await this.site(id, actor);
    const assigned = await this.sites.assignTerminal(site.id, deviceId);
    await this.ingest.forgetTerminalSite(deviceId);
    return assigned;
  }

  @Delete('sites/:id/terminals/:deviceId')
  @Roles('admin', 'clerk', 'credit_admin', 'operator')
  @ApiOperation({ summary: 'Take a terminal off this site: its taps then find no open activity' })
  async unassignTerminal(@Param('id') id: string, @Param('deviceId') deviceId: string, @CurrentActor() actor: Actor) {
    const site = await this.site(id, actor);
    const removed = await this.sites.unassignTerminal(site.id, deviceId);
    await this.ingest.forgetTerminalSite(deviceId);
    return removed;
  }

  @Get('communities/:id/activity-categories')
  @Roles(...READERS)
  @ApiOperation({ summary: "The community's activity category tree (categories with their sub-items)" })
  async categories(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    return { categories: await this.sites.categoryTree(communityId) };
  }

  @Post('communities/:id/activity-categories/defaults')
  @Roles(...ORGANISERS)
  @ApiOperation({
    summary: 'Install the default category tree (10 categories, 28 sub-items)',
    description: 'Codes the community has already are left as they are, so it can be run again safely.',
  })
  async installDefaults(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    const installed = await this.sites.installDefaultCategories(communityId);
    return { ...installed, categories: await this.sites.categoryTree(communityId) };
  }

  @Post('communities/:id/activity-categories')
  @HttpCode(201)
  @Roles(...ORGANISERS)
  @ApiOperation({ summary: 'Add a category (no parentCode) or a sub-item (parentCode: its category)' })
  @ApiBody({ schema: openApiSchema(categoryBody) })
  async createCategory(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    return this.sites.createCategory({ communityId, ...parseBody(categoryBody, body) });
  }

  @Patch('communities/:id/activity-categories/:code')
  @Roles(...ORGANISERS)
  @ApiOperation({ summary: 'Rename, reorder or switch off a category or sub-item' })
  @ApiBody({ schema: openApiSchema(categoryPatchBody) })
  async patchCategory(
    @Param('id') id: string,
    @Param('code') code: string,
    @Body() body: unknown,
    @CurrentActor() actor: Actor,
    @Req() req: object,
  ) {
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    auditBefore(req, await this.sites.findCategory(communityId, code));
    return this.sites.updateCategory(communityId, code, parseBody(categoryPatchBody, body));
  }
}
