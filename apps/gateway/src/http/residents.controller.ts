import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { CommunityRepository, HouseholdRepository, ResidentRepository } from '../../../../libs/persistence/src';
import { AdminAuthGuard } from './admin-auth.guard';
import { parseId } from './communities.controller';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { assertCommunityAccess } from './community-access';
import { type Actor, CurrentActor, Roles } from './roles';

export const createResidentBody = z.object({
  communityId: z.uuid('communityId must be the id of a community'),
  name: z.string().trim().min(1, 'name is required').max(100),
  householdId: z.uuid('householdId must be the id of a household of the community').optional(),
  externalRef: z.string().trim().min(1).max(64).optional(),
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9][0-9 -]{2,29}$/, 'phone may hold only digits, spaces, - and a leading +')
    .optional(),
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
    @Inject(HouseholdRepository) private readonly households: HouseholdRepository,
  ) {}

  @Post()
  @HttpCode(201)
  @Roles('admin', 'credit_admin', 'credit_collector')
  @ApiOperation({ summary: 'Register a resident in a community' })
  @ApiBody({ schema: openApiSchema(createResidentBody) })
  async create(@Body() body: unknown, @CurrentActor() actor: Actor) {
    const input = parseBody(createResidentBody, body);
    assertCommunityAccess(actor, input.communityId);
    if (!(await this.communities.find(input.communityId))) {
      throw new DomainError('unknown-community', `no community with id ${input.communityId}; create the community first`);
    }
    if (input.householdId) {
      const household = await this.households.find(input.householdId);
      if (!household || household.communityId !== input.communityId) {
        throw new DomainError('validation-failed', `该社区没有这个户 / no household with id ${input.householdId} in this community`);
      }
    }
    if (input.externalRef && (await this.residents.findByExternalRef(input.communityId, input.externalRef))) {
      throw new DomainError(
        'conflict',
        `编号 ${input.externalRef} 已登记给另一位居民 / register number ${input.externalRef} is already taken in this community`,
      );
    }
    return this.residents.create({ ...input, actor: actor.label });
  }

  @Get(':id')
  @Roles('admin', 'credit_admin', 'credit_collector', 'clerk', 'auditor')
  @ApiOperation({ summary: 'A resident with balance, active cards, household and building (cards: /residents/:id/cards)' })
  async get(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const resident = await this.residents.find(parseId(id, 'resident'));
    if (!resident) throw new DomainError('not-found', `no resident with id ${id}`);
    assertCommunityAccess(actor, resident.communityId);
    return resident;
  }

  @Get(':id/ledger')
  @Roles('admin', 'credit_admin', 'credit_collector', 'clerk', 'auditor')
  @ApiOperation({ summary: 'Ledger entries of the resident, newest first' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 100, maximum: 1000 } })
  async ledger(@Param('id') id: string, @Query() query: unknown) {
    const { limit } = parseBody(ledgerQuery, query);
    if (!(await this.residents.find(parseId(id, 'resident')))) throw new DomainError('not-found', `no resident with id ${id}`);
    return { entries: await this.residents.ledger(id, limit) };
  }
}
