import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { CommunityRepository, ProvisioningKeyRepository } from '../../../../libs/persistence/src';
import { PROVISIONING_USERNAME, provisionTopic } from '../../../../libs/protocol/src';
import { DEVICE_KINDS } from '../fleet/device-csv';
import { hashProvisioningSecret, newProvisioningKey } from '../fleet/provisioning.service';
import { parseId } from './communities.controller';
import { assertCommunityAccess } from './community-access';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

export const createProvisioningKeyBody = z.object({
  label: z.string().trim().max(100).optional(),
  kinds: z
    .array(z.enum(DEVICE_KINDS))
    .min(1, 'kinds must name at least one of bin, terminal, counter')
    .default([...DEVICE_KINDS]),
  maxDevices: z.number({ error: 'maxDevices must be a number' }).int().min(1).max(10_000),
  expiresInHours: z
    .number({ error: 'expiresInHours must be a number' })
    .int()
    .min(1)
    .max(24 * 90),
});

/** Per-community keys for self-provisioning devices (issue #6): secret shown once, limited in count and time, revocable. */
@ApiTags('devices')
@ApiBearerAuth()
@Controller('api/v1')
export class ProvisioningKeysController {
  constructor(
    @Inject(ProvisioningKeyRepository) private readonly keys: ProvisioningKeyRepository,
    @Inject(CommunityRepository) private readonly communities: CommunityRepository,
  ) {}

  @Post('communities/:id/provisioning-keys')
  @HttpCode(201)
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'A provisioning key for a batch of devices; its secret is shown only in this answer' })
  @ApiBody({ schema: openApiSchema(createProvisioningKeyBody) })
  async create(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const community = await this.communities.find(parseId(id, 'community'));
    if (!community) throw new DomainError('not-found', `no community with id ${id}`);
    assertCommunityAccess(actor, community.id);
    const input = parseBody(createProvisioningKeyBody, body);
    const { key, secret } = newProvisioningKey();
    const record = await this.keys.create({
      communityId: community.id,
      key,
      secretHash: hashProvisioningSecret(secret),
      label: input.label,
      kinds: [...new Set(input.kinds)],
      maxDevices: input.maxDevices,
      expiresAt: new Date(Date.now() + input.expiresInHours * 3600_000),
      createdBy: actor.label,
    });
    return {
      ...record,
      secret,
      device: {
        username: PROVISIONING_USERNAME,
        requestTopic: provisionTopic('clientId', 'request').replace('/clientId/', '/{clientId}/'),
        responseTopic: provisionTopic('clientId', 'response').replace('/clientId/', '/{clientId}/'),
      },
    };
  }

  @Get('communities/:id/provisioning-keys')
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({ summary: "A community's provisioning keys with their use (never the secrets)" })
  async list(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const community = await this.communities.find(parseId(id, 'community'));
    if (!community) throw new DomainError('not-found', `no community with id ${id}`);
    assertCommunityAccess(actor, community.id);
    return { provisioningKeys: await this.keys.list(community.id) };
  }

  @Delete('provisioning-keys/:id')
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'Revoke a provisioning key: devices asking with it from now on are refused (key-revoked)' })
  async revoke(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const current = await this.keys.find(parseId(id, 'provisioning key'));
    if (!current) throw new DomainError('not-found', `no provisioning key with id ${id}`);
    assertCommunityAccess(actor, current.communityId);
    return this.keys.revoke(current.id, new Date());
  }
}
