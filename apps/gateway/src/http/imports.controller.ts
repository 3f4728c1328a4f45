import { Body, Controller, Get, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { CommunityRepository } from '../../../../libs/persistence/src';
import { IMPORT_SYNC_MAX_ROWS, ResidentImportService } from '../registry/resident-import.service';
import { parseId } from './communities.controller';
import { assertCommunityAccess } from './community-access';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

/** The content types the raw-body parser hands over as bytes (gateway.ts). */
export const CSV_CONTENT_TYPES = ['text/csv', 'text/plain', 'application/csv', 'application/vnd.ms-excel'];

const importQuery = z.object({
  dryRun: z
    .enum(['true', 'false'], { error: 'dryRun must be true or false' })
    .default('true')
    .transform((v) => v === 'true'),
});

@ApiTags('imports')
@ApiBearerAuth()
@Controller('api/v1')
export class ImportsController {
  constructor(
    @Inject(CommunityRepository) private readonly communities: CommunityRepository,
    @Inject(ResidentImportService) private readonly imports: ResidentImportService,
  ) {}

  @Post('communities/:id/imports/residents')
  @Roles('admin', 'credit_admin', 'credit_collector')
  @ApiOperation({
    summary:
      'Import residents, households and cards from a CSV file (columns 编号/ref, 姓名/name, 楼栋/building, 户/household, 电话/phone, 卡号/card). ' +
      `dryRun=true (the default) checks every row and writes nothing. Up to ${IMPORT_SYNC_MAX_ROWS} rows the answer is the report (200); ` +
      'a bigger file answers 202 with an importId to follow at GET /api/v1/imports/{id}.',
  })
  @ApiConsumes('text/csv')
  @ApiQuery({ name: 'dryRun', required: false, schema: { type: 'boolean', default: true } })
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  async importResidents(
    @Param('id') id: string,
    @Query() query: unknown,
    @Body() body: unknown,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ) {
    const community = await this.communities.find(parseId(id, 'community'));
    if (!community) throw new DomainError('not-found', `no community with id ${id}`);
    assertCommunityAccess(actor, community.id);
    const { dryRun } = parseBody(importQuery, query);
    if (!Buffer.isBuffer(body)) {
      throw new DomainError(
        'unsupported-media-type',
        '请把 CSV 文件作为请求内容发送，并带上 Content-Type: text/csv / send the CSV file as the request body with the header Content-Type: text/csv',
      );
    }
    const started = await this.imports.start({ communityId: community.id, actor: actor.label, dryRun, bytes: body });
    if (started.kind === 'finished') {
      res.status(200);
      return started.report;
    }
    res.status(202);
    res.setHeader('Location', `/api/v1/imports/${started.job.importId}`);
    return started.job;
  }

  @Get('imports/:id')
  @Roles('admin', 'credit_admin', 'credit_collector', 'clerk', 'auditor')
  @ApiOperation({ summary: 'A CSV import: state (running, done, failed), rowsDone of rowsTotal, and the report when done' })
  async get(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const job = await this.imports.status(parseId(id, 'import'));
    if (!job) {
      throw new DomainError(
        'not-found',
        `没有这个导入任务（网关重启后会清空） / no import ${id} here: imports are kept in memory until the gateway restarts`,
      );
    }
    assertCommunityAccess(actor, job.communityId);
    return job;
  }
}
