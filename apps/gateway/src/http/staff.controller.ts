import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { StaffRepository } from '../../../../libs/persistence/src';
import { ActorCache } from './actor-cache';
import { AdminAuthGuard } from './admin-auth.guard';
import { auditBefore } from './audit-entry';
import { parseId } from './communities.controller';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { Roles, STAFF_ROLES, type RequestWithActor } from './roles';

/** The bootstrap admin token's holder is `staff:bootstrap`; no staff member may share that label. */
const RESERVED_NAMES = new Set(['bootstrap']);

const role = z.enum(STAFF_ROLES, { error: `role must be one of: ${STAFF_ROLES.join(', ')}` });

export const createStaffBody = z.object({
  name: z
    .string()
    .trim()
    .regex(/^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u, 'name must be 1-64 letters or digits (. _ - allowed after the first), e.g. li.ming')
    .refine((n) => !RESERVED_NAMES.has(n.toLowerCase()), 'this name is reserved; choose another'),
  displayName: z.string().trim().min(1).max(100).optional(),
  role,
  communityId: z.uuid('communityId must be the id of a community, or null for every community').nullable().default(null),
});

export const updateStaffBody = z
  .object({ isActive: z.boolean({ error: 'isActive must be true or false' }).optional(), role: role.optional() })
  .refine((b) => b.isActive !== undefined || b.role !== undefined, 'send isActive, role, or both');

export const issueTokenBody = z.object({ label: z.string().trim().min(1).max(100).default('api') });

/** Staff users and their API tokens: the administrator's work only. */
@ApiTags('staff')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Roles('admin')
@Controller('api/v1/staff')
export class StaffController {
  constructor(
    @Inject(StaffRepository) private readonly staff: StaffRepository,
    @Inject(ActorCache) private readonly actors: ActorCache,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a staff user with a role, for one community or (communityId null) all' })
  @ApiBody({ schema: openApiSchema(createStaffBody) })
  async create(@Body() body: unknown) {
    const input = parseBody(createStaffBody, body);
    const result = await this.staff.createUser({ ...input, displayName: input.displayName ?? input.name });
    if (result.ok) return result.user;
    if (result.error === 'unknown-community') {
      throw new DomainError('unknown-community', `no community with id ${input.communityId}; create the community first`);
    }
    throw new DomainError('conflict', `a staff user named ${input.name} already exists; choose another name`);
  }

  @Get()
  @ApiOperation({ summary: 'Every staff user with their tokens (never the tokens themselves)' })
  async list() {
    return { staff: await this.staff.listUsers() };
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Switch a staff user off or on, or change their role; takes effect at once' })
  @ApiBody({ schema: openApiSchema(updateStaffBody) })
  async update(@Param('id') id: string, @Body() body: unknown, @Req() req: RequestWithActor) {
    const change = parseBody(updateStaffBody, body);
    const before = await this.staff.findUser(parseId(id, 'staff user'));
    if (!before) throw new DomainError('not-found', `no staff user with id ${id}`);
    auditBefore(req, before);
    const user = await this.staff.updateUser(id, change);
    if (!user) throw new DomainError('not-found', `no staff user with id ${id}`);
    this.actors.clear();
    return user;
  }

  @Post(':id/tokens')
  @HttpCode(201)
  @ApiOperation({ summary: 'Issue an API token; it is shown only in this answer, copy it now' })
  @ApiBody({ schema: openApiSchema(issueTokenBody) })
  async issueToken(@Param('id') id: string, @Body() body: unknown) {
    const { label } = parseBody(issueTokenBody, body);
    const user = await this.staff.findUser(parseId(id, 'staff user'));
    if (!user) throw new DomainError('not-found', `no staff user with id ${id}`);
    if (!user.isActive) throw new DomainError('conflict', `${user.name} is switched off; switch the account on before issuing a token`);
    const issued = await this.staff.issueToken(id, label);
    if (!issued) throw new DomainError('not-found', `no staff user with id ${id}`);
    return { ...issued.record, token: issued.token };
  }

  @Delete(':id/tokens/:tokenId')
  @ApiOperation({ summary: 'Revoke a token; it is refused from the next request on' })
  async revokeToken(@Param('id') id: string, @Param('tokenId') tokenId: string) {
    const token = await this.staff.revokeToken(parseId(id, 'staff user'), parseId(tokenId, 'token'));
    if (!token) throw new DomainError('not-found', `no token ${tokenId} of staff user ${id}`);
    this.actors.clear();
    return token;
  }
}
