import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { BuildingRepository, CommunityRepository, HouseholdRepository, ResidentRepository } from '../../../../libs/persistence/src';
import { parseId } from './communities.controller';
import { assertCommunityAccess } from './community-access';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

export const createBuildingBody = z.object({ name: z.string().trim().min(1, 'name is required').max(100) });
export const createHouseholdBody = z.object({
  name: z.string().trim().min(1, 'name is required, e.g. 3-2-201').max(100),
  buildingId: z.uuid('buildingId must be the id of a building of the community').optional(),
});
export const moveBody = z.object({ householdId: z.uuid('householdId must be the id of a household') });
const residentListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after: z.uuid('after must be the id of the last resident of the previous page').optional(),
});

const WRITERS = ['admin', 'credit_admin', 'credit_collector'] as const;
const READERS = ['admin', 'credit_admin', 'credit_collector', 'clerk', 'auditor'] as const;

/**
 * Where residents live (issue #3): buildings (楼栋), households (户), the
 * community's residents, and moves with their history. Points roll up by
 * household and building ("credit families", "credit buildings").
 */
@ApiTags('households')
@ApiBearerAuth()
@Controller('api/v1')
export class HouseholdsController {
  constructor(
    @Inject(CommunityRepository) private readonly communities: CommunityRepository,
    @Inject(BuildingRepository) private readonly buildings: BuildingRepository,
    @Inject(HouseholdRepository) private readonly households: HouseholdRepository,
    @Inject(ResidentRepository) private readonly residents: ResidentRepository,
  ) {}

  @Post('communities/:id/buildings')
  @HttpCode(201)
  @Roles(...WRITERS)
  @ApiOperation({ summary: 'Add a building (楼栋) to the community' })
  @ApiBody({ schema: openApiSchema(createBuildingBody) })
  async createBuilding(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const communityId = await this.community(id, actor);
    const { name } = parseBody(createBuildingBody, body);
    const result = await this.buildings.create({ communityId, name });
    if (!result.ok) {
      throw new DomainError('conflict', `楼栋“${name}”已经存在 / building ${name} already exists in this community`, {
        id: result.existingId,
      });
    }
    return result.building;
  }

  @Get('communities/:id/buildings')
  @Roles(...READERS)
  @ApiOperation({ summary: 'The buildings of the community' })
  async listBuildings(@Param('id') id: string, @CurrentActor() actor: Actor) {
    return { buildings: await this.buildings.list(await this.community(id, actor)) };
  }

  @Get('buildings/:id')
  @Roles(...READERS)
  @ApiOperation({ summary: 'A building with its households' })
  async getBuilding(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const building = await this.buildings.find(parseId(id, 'building'));
    if (!building) throw new DomainError('not-found', `no building with id ${id}`);
    assertCommunityAccess(actor, building.communityId);
    return building;
  }

  @Post('communities/:id/households')
  @HttpCode(201)
  @Roles(...WRITERS)
  @ApiOperation({ summary: 'Add a household (户, e.g. 3-2-201) to the community, optionally in a building' })
  @ApiBody({ schema: openApiSchema(createHouseholdBody) })
  async createHousehold(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const communityId = await this.community(id, actor);
    const input = parseBody(createHouseholdBody, body);
    const result = await this.households.create({ communityId, name: input.name, buildingId: input.buildingId ?? null });
    if (result.ok) return result.household;
    if (result.error === 'building-not-found') {
      throw new DomainError('validation-failed', `该社区没有这个楼栋 / no building with id ${input.buildingId} in this community`);
    }
    throw new DomainError('conflict', `户“${input.name}”已经存在 / household ${input.name} already exists in this community`, {
      id: result.existingId,
    });
  }

  @Get('communities/:id/households')
  @Roles(...READERS)
  @ApiOperation({ summary: 'The households of the community' })
  async listHouseholds(@Param('id') id: string, @CurrentActor() actor: Actor) {
    return { households: await this.households.list(await this.community(id, actor)) };
  }

  @Get('households/:id')
  @Roles(...READERS)
  @ApiOperation({ summary: 'A household with the residents who live there' })
  async getHousehold(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const household = await this.households.find(parseId(id, 'household'));
    if (!household) throw new DomainError('not-found', `no household with id ${id}`);
    assertCommunityAccess(actor, household.communityId);
    return household;
  }

  @Get('communities/:id/residents')
  @Roles(...READERS)
  @ApiOperation({ summary: 'The residents of the community, a page at a time (by id; pass the last id as `after`)' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 100, maximum: 1000 } })
  @ApiQuery({ name: 'after', required: false, schema: { type: 'string', format: 'uuid' } })
  async listResidents(@Param('id') id: string, @Query() query: unknown, @CurrentActor() actor: Actor) {
    const communityId = await this.community(id, actor);
    const { limit, after } = parseBody(residentListQuery, query);
    return this.residents.listByCommunity(communityId, { limit, ...(after ? { after } : {}) });
  }

  @Post('residents/:id/move')
  @HttpCode(200)
  @Roles(...WRITERS)
  @ApiOperation({ summary: 'Move a resident to another household of the community (the history keeps where they lived)' })
  @ApiBody({ schema: openApiSchema(moveBody) })
  async move(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const { householdId } = parseBody(moveBody, body);
    await this.resident(id, actor);
    const result = await this.households.moveResident({ residentId: id, householdId, actor: actor.label });
    if (result.ok) return { isChanged: result.isChanged, residence: result.residence };
    switch (result.error) {
      case 'resident-not-found':
        throw new DomainError('not-found', `no resident with id ${id}`);
      case 'household-not-found':
        throw new DomainError('validation-failed', `没有这个户 / no household with id ${householdId}`);
      case 'other-community':
        throw new DomainError(
          'validation-failed',
          `这个户属于另一个社区：跨社区搬迁请在新社区重新登记 / household ${householdId} is in another community; register the resident there instead`,
        );
    }
  }

  @Get('residents/:id/residences')
  @Roles(...READERS)
  @ApiOperation({ summary: 'Where the resident lived, oldest first; toAt null is where they live now' })
  async residences(@Param('id') id: string, @CurrentActor() actor: Actor) {
    await this.resident(id, actor);
    return { residences: await this.households.residenceHistory(id) };
  }

  private async community(id: string, actor: Actor): Promise<string> {
    const community = await this.communities.find(parseId(id, 'community'));
    if (!community) throw new DomainError('not-found', `no community with id ${id}`);
    assertCommunityAccess(actor, community.id);
    return community.id;
  }

  private async resident(id: string, actor: Actor): Promise<void> {
    const resident = await this.residents.find(parseId(id, 'resident'));
    if (!resident) throw new DomainError('not-found', `no resident with id ${id}`);
    assertCommunityAccess(actor, resident.communityId);
  }
}
