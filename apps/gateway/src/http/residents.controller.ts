import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { CommunityRepository, ResidentRepository } from '../../../../libs/persistence/src';
import { cardUidSchema } from '../../../../libs/protocol/src';
import { AdminAuthGuard } from './admin-auth.guard';
import { parseId } from './communities.controller';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';

export const createResidentBody = z.object({
  communityId: z.uuid('communityId must be the id of a community'),
  name: z.string().trim().min(1, 'name is required').max(100),
});

/** Clerks type or paste uids in many shapes ("04:a1:b2 ..."): normalise, then check. */
export const bindCardBody = z.object({
  uid: z.preprocess((v) => (typeof v === 'string' ? v.replace(/[\s:-]/g, '').toUpperCase() : v), cardUidSchema),
});

const ledgerQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

@ApiTags('residents')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1/residents')
export class ResidentsController {
  constructor(
    @Inject(ResidentRepository) private readonly residents: ResidentRepository,
    @Inject(CommunityRepository) private readonly communities: CommunityRepository,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a resident in a community' })
  @ApiBody({ schema: openApiSchema(createResidentBody) })
  async create(@Body() body: unknown) {
    const input = parseBody(createResidentBody, body);
    if (!(await this.communities.find(input.communityId))) {
      throw new DomainError('unknown-community', `no community with id ${input.communityId}; create the community first`);
    }
    return this.residents.create(input);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A resident with balance and cards' })
  async get(@Param('id') id: string) {
    const resident = await this.residents.find(parseId(id, 'resident'));
    if (!resident) throw new DomainError('not-found', `no resident with id ${id}`);
    return resident;
  }

  @Post(':id/cards')
  @HttpCode(201)
  @ApiOperation({ summary: 'Bind a card to the resident (one resident per card)' })
  @ApiBody({ schema: openApiSchema(bindCardBody) })
  async bindCard(@Param('id') id: string, @Body() body: unknown) {
    const { uid } = parseBody(bindCardBody, body);
    const result = await this.residents.bindCard(parseId(id, 'resident'), uid);
    if (result.ok) return { uid: result.uid, residentId: result.residentId, boundAt: result.boundAt };
    if (result.error === 'resident-not-found') throw new DomainError('not-found', `no resident with id ${id}`);
    throw new DomainError('card-already-bound', `card ${uid} already belongs to another resident; unbind it there first`, {
      uid,
      residentId: result.ownerId,
    });
  }

  @Get(':id/ledger')
  @ApiOperation({ summary: 'Ledger entries of the resident, newest first' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 100, maximum: 1000 } })
  async ledger(@Param('id') id: string, @Query() query: unknown) {
    const { limit } = parseBody(ledgerQuery, query);
    if (!(await this.residents.find(parseId(id, 'resident')))) throw new DomainError('not-found', `no resident with id ${id}`);
    return { entries: await this.residents.ledger(id, limit) };
  }
}
