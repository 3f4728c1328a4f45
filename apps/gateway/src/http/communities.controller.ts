import { Body, Controller, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { CommunityRepository } from '../../../../libs/persistence/src';
import { BATTERY_KINDS } from '../../../../libs/protocol/src';
import { AdminAuthGuard } from './admin-auth.guard';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { Roles } from './roles';

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const pointsPerUnit = z.number().int('points must be whole numbers').min(0).max(10_000);

export const createCommunityBody = z.object({
  name: z.string().trim().min(1, 'name is required').max(100),
  timezone: z.string().refine(isTimeZone, 'timezone must be an IANA time zone such as Asia/Shanghai').default('Asia/Shanghai'),
  depositPointsPerUnit: z.partialRecord(z.enum(BATTERY_KINDS), pointsPerUnit).optional(),
});

export const uuidParam = z.uuid();

export function parseId(value: string, what: string): string {
  if (!uuidParam.safeParse(value).success) throw new DomainError('not-found', `no ${what} with id ${value}`);
  return value;
}

@ApiTags('communities')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1/communities')
export class CommunitiesController {
  constructor(@Inject(CommunityRepository) private readonly communities: CommunityRepository) {}

  @Post()
  @HttpCode(201)
  @Roles('admin')
  @ApiOperation({ summary: 'Create a community (its time zone judges daily caps and activity windows)' })
  @ApiBody({ schema: openApiSchema(createCommunityBody) })
  create(@Body() body: unknown) {
    const input = parseBody(createCommunityBody, body);
    return this.communities.create(input);
  }

  @Get(':id')
  @Roles('admin', 'credit_admin', 'credit_collector', 'clerk', 'operator', 'auditor')
  @ApiOperation({ summary: 'A community and its points table' })
  async get(@Param('id') id: string) {
    const community = await this.communities.find(parseId(id, 'community'));
    if (!community) throw new DomainError('not-found', `no community with id ${id}`);
    return community;
  }
}
