import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { BinRepository, type DeviceRecord, DeviceRepository } from '../../../../libs/persistence/src';
import { collectionReport } from '../bins/bin-rules';
import { BinWatcher } from '../bins/bin-watcher';
import { AdminAuthGuard } from './admin-auth.guard';
import { assertCommunityAccess } from './community-access';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

const percent = (name: string) => z.number().int(`${name} must be a whole percent`).min(1).max(100);

export const updateBinSettingsBody = z
  .object({
    fillWarnPercent: percent('fillWarnPercent').optional(),
    fillFullPercent: percent('fillFullPercent').optional(),
    weightTolerancePercent: z.number().int('weightTolerancePercent must be a whole percent').min(0).max(100).optional(),
  })
  .strict();

export const recordCollectionBody = z.object({
  weightGrams: z.number().min(0).max(200_000),
  collectedAt: z.iso
    .datetime({ offset: true, error: 'collectedAt must be a time such as 2026-11-23T16:40:00+08:00' })
    .refine((s) => Date.parse(s) <= Date.now() + 5 * 60_000, 'collectedAt may not be in the future')
    .optional(),
  note: z.string().trim().max(500).optional(),
});

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

/**
 * The bin's life (issue #4): fill thresholds, collections and their report, faults
 * and fill alerts. Operators run the bins; auditors read.
 */
@ApiTags('bins')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1/bins')
export class BinsController {
  constructor(
    @Inject(BinRepository) private readonly bins: BinRepository,
    @Inject(DeviceRepository) private readonly devices: DeviceRepository,
    @Inject(BinWatcher) private readonly watcher: BinWatcher,
  ) {}

  @Get(':deviceId/settings')
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({ summary: 'Fill thresholds (warn, full) and the weight tolerance of collection reports' })
  async settings(@Param('deviceId') deviceId: string, @CurrentActor() actor: Actor) {
    await this.bin(deviceId, actor);
    return this.bins.settings(deviceId);
  }

  @Patch(':deviceId/settings')
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'Change the fill thresholds or the weight tolerance; warn must stay below full' })
  @ApiBody({ schema: openApiSchema(updateBinSettingsBody) })
  async updateSettings(@Param('deviceId') deviceId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const patch = parseBody(updateBinSettingsBody, body);
    await this.bin(deviceId, actor);
    const settings = await this.bins.updateSettings(deviceId, patch, actor.label);
    this.watcher.settingsChanged(deviceId, settings);
    return settings;
  }

  @Post(':deviceId/collections')
  @HttpCode(201)
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'Record that staff emptied the bin, with the weight taken out; resolves its fill alerts' })
  @ApiBody({ schema: openApiSchema(recordCollectionBody) })
  async recordCollection(@Param('deviceId') deviceId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const input = parseBody(recordCollectionBody, body);
    await this.bin(deviceId, actor);
    const collection = await this.bins.recordCollection({
      deviceId,
      collectedAt: input.collectedAt ? new Date(input.collectedAt) : new Date(),
      weightGrams: input.weightGrams,
      actor: actor.label,
      note: input.note ?? null,
    });
    this.watcher.collected(deviceId, actor.label);
    return collection;
  }

  @Get(':deviceId/collections')
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({ summary: 'Collections of the bin, newest first: by staff (api) and by its door sensor (event)' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 100, maximum: 1000 } })
  async collections(@Param('deviceId') deviceId: string, @Query() query: unknown, @CurrentActor() actor: Actor) {
    const { limit } = parseBody(listQuery, query);
    await this.bin(deviceId, actor);
    return { collections: await this.bins.collections(deviceId, limit) };
  }

  @Get(':deviceId/collection-report')
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({
    summary:
      'Per collection: weight collected vs weight of the deposits credited since the previous one, the gap, and a flag beyond tolerance',
  })
  async report(@Param('deviceId') deviceId: string, @CurrentActor() actor: Actor) {
    await this.bin(deviceId, actor);
    const input = await this.bins.reportInput(deviceId);
    const lines = collectionReport(input.collections, input.deposits, input.settings.weightTolerancePercent);
    return {
      deviceId,
      weightTolerancePercent: input.settings.weightTolerancePercent,
      collections: lines,
      flagged: lines.filter((l) => l.flagged).length,
    };
  }

  @Get(':deviceId/faults')
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({ summary: 'Faults the device reported (JAM, SCALE_ERROR, DOOR, TAMPER...): the open ones and the history' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 100, maximum: 1000 } })
  async faults(@Param('deviceId') deviceId: string, @Query() query: unknown, @CurrentActor() actor: Actor) {
    const { limit } = parseBody(listQuery, query);
    await this.device(deviceId, actor);
    const faults = await this.bins.faults(deviceId, limit);
    return { open: faults.filter((f) => f.clearedAt === null), history: faults.filter((f) => f.clearedAt !== null) };
  }

  @Get(':deviceId/alerts')
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({ summary: 'Fill alerts of the bin (fill-warn, fill-full), newest first; open ones have resolvedAt null' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 100, maximum: 1000 } })
  async alerts(@Param('deviceId') deviceId: string, @Query() query: unknown, @CurrentActor() actor: Actor) {
    const { limit } = parseBody(listQuery, query);
    await this.bin(deviceId, actor);
    const alerts = await this.bins.alerts(deviceId, limit);
    return { open: alerts.filter((a) => a.resolvedAt === null), alerts };
  }

  private async device(deviceId: string, actor: Actor): Promise<DeviceRecord> {
    const device = await this.devices.find(deviceId);
    if (!device) throw new DomainError('not-found', `no device with id ${deviceId}`);
    assertCommunityAccess(actor, device.communityId);
    return device;
  }

  private async bin(deviceId: string, actor: Actor): Promise<DeviceRecord> {
    const device = await this.device(deviceId, actor);
    if (device.kind !== 'bin') throw new DomainError('not-found', `no bin with id ${deviceId}: it is a ${device.kind}`);
    return device;
  }
}
