import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuditLogRepository } from '../../../../libs/persistence/src';
import { AdminAuthGuard } from './admin-auth.guard';
import { parseBody } from './parse-body';
import { Roles } from './roles';

const instant = (name: string) => z.iso.datetime({ offset: true, error: `${name} must be a time such as 2026-11-23T08:00:00+08:00` });

export const auditLogQuery = z.object({
  entityType: z.string().min(1).max(100).optional(),
  entityId: z.string().min(1).max(200).optional(),
  actor: z.string().min(1).max(200).optional(),
  since: instant('since').optional(),
  until: instant('until').optional(),
  cursor: z
    .string()
    .regex(/^\d{1,19}$/, 'cursor must be the nextCursor of the previous page')
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1/audit-log')
export class AuditLogController {
  constructor(@Inject(AuditLogRepository) private readonly auditLog: AuditLogRepository) {}

  @Get()
  @Roles('admin', 'auditor')
  @ApiOperation({ summary: 'Every write through the API, newest first: who, what, before and after' })
  @ApiQuery({ name: 'entityType', required: false, description: 'e.g. resident, device, staff' })
  @ApiQuery({ name: 'entityId', required: false })
  @ApiQuery({ name: 'actor', required: false, description: 'e.g. staff:li.ming' })
  @ApiQuery({ name: 'since', required: false, description: 'from this time (inclusive), ISO 8601' })
  @ApiQuery({ name: 'until', required: false, description: 'before this time, ISO 8601' })
  @ApiQuery({ name: 'cursor', required: false, description: 'the nextCursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 100, maximum: 500 } })
  async list(@Query() query: unknown) {
    const q = parseBody(auditLogQuery, query);
    return this.auditLog.list({
      ...q,
      since: q.since === undefined ? undefined : new Date(q.since),
      until: q.until === undefined ? undefined : new Date(q.until),
    });
  }
}
