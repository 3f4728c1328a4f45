import { randomBytes } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { CommunityRepository, DeviceRepository } from '../../../../libs/persistence/src';
import { deviceTopic } from '../../../../libs/protocol/src';
import { AuthFailureTracker } from '../fleet/auth-failures';
import { DeviceAccess } from '../fleet/device-access';
import { parseDeviceCsv } from '../fleet/device-csv';
import { decodeCsvBytes } from '../registry/csv';
import { generateDevicePassword, hashDevicePassword } from '../registry/device-credentials';
import { parseId } from './communities.controller';
import { assertCommunityAccess } from './community-access';
import { deviceChangeError } from './devices.controller';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

const authFailuresQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });

function mqttLogin(id: string, password: string) {
  return { username: id, password, clientId: id, topicRoot: deviceTopic(id, 'events').replace(/\/events$/, '') };
}

/** Credentials lifecycle beyond register/disable (issue #6): rotate, retire, CSV registration; refused logins. */
@ApiTags('devices')
@ApiBearerAuth()
@Controller('api/v1')
export class DeviceFleetController {
  constructor(
    @Inject(DeviceRepository) private readonly devices: DeviceRepository,
    @Inject(CommunityRepository) private readonly communities: CommunityRepository,
    @Inject(DeviceAccess) private readonly access: DeviceAccess,
    @Inject(AuthFailureTracker) private readonly authFailures: AuthFailureTracker,
  ) {}

  @Post('devices/:id/credentials')
  @HttpCode(200)
  @Roles('admin', 'operator')
  @ApiOperation({
    summary:
      'New MQTT password for a device, shown only in this answer; the old one is refused from now on and a connected session is dropped',
  })
  async rotate(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const current = await this.devices.find(id);
    if (!current) throw new DomainError('not-found', `no device with id ${id}`);
    assertCommunityAccess(actor, current.communityId);
    const password = generateDevicePassword();
    const change = await this.devices.setPasswordHash(id, await hashDevicePassword(password), new Date());
    if (!change.ok) throw deviceChangeError(id, change.reason);
    await this.access.rotated(id, password);
    return { ...change.device, mqtt: mqttLogin(id, password) };
  }

  @Post('devices/:id/retire')
  @HttpCode(200)
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'Retire a device for good: refused at login, disconnected, never re-enabled; its id is never registered again' })
  async retire(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const current = await this.devices.find(id);
    if (!current) throw new DomainError('not-found', `no device with id ${id}`);
    assertCommunityAccess(actor, current.communityId);
    const change = await this.devices.retire(id, new Date());
    if (!change.ok) throw deviceChangeError(id, change.reason);
    await this.access.retired(id);
    return change.device;
  }

  @Post('communities/:id/devices/import')
  @HttpCode(201)
  @Roles('admin', 'operator')
  @ApiOperation({
    summary:
      'Register devices from a CSV file (columns id/编号, kind/类型, label/名称). Every row is checked first: one broken row ' +
      '(reported by line) or a taken id registers none. Each device gets its own password, shown only in this answer.',
  })
  @ApiConsumes('text/csv')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  async importCsv(@Param('id') communityId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const community = await this.communities.find(parseId(communityId, 'community'));
    if (!community) throw new DomainError('not-found', `no community with id ${communityId}`);
    assertCommunityAccess(actor, community.id);
    if (!Buffer.isBuffer(body)) {
      throw new DomainError('unsupported-media-type', 'send the CSV file as the request body with the header Content-Type: text/csv');
    }
    const { rows, problems } = parseDeviceCsv(decodeCsvBytes(body).text);
    if (problems.length > 0) {
      throw new DomainError(
        'validation-failed',
        `${problems.length} row(s) of the file are wrong; nothing was registered: ${problems
          .slice(0, 5)
          .map((p) => `line ${p.line}: ${p.message}`)
          .join('; ')}`,
        { rows: problems },
      );
    }
    const passwords = new Map<string, string>();
    const inputs = [];
    for (const row of rows) {
      const id = row.id ?? `${row.kind}-${randomBytes(5).toString('hex')}`;
      const password = generateDevicePassword();
      passwords.set(id, password);
      inputs.push({
        id,
        kind: row.kind,
        communityId: community.id,
        label: row.label ?? undefined,
        passwordHash: await hashDevicePassword(password),
      });
    }
    const created = await this.devices.createMany(inputs);
    if (!created.ok) {
      throw new DomainError(
        'device-id-taken',
        `these ids are already registered (or retired): ${created.takenIds.join(', ') || 'one was registered meanwhile'}; nothing was registered`,
        { takenIds: created.takenIds },
      );
    }
    for (const device of created.devices) await this.access.registered(device.id, passwords.get(device.id)!);
    return {
      created: created.devices.length,
      devices: created.devices.map((d) => ({ ...d, mqtt: mqttLogin(d.id, passwords.get(d.id)!) })),
    };
  }

  @Get('fleet/auth-failures')
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'Refused MQTT logins: the most recent ones and the counts per client id and address in the sliding window' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 50, maximum: 200 } })
  authFailuresList(@Query() query: unknown) {
    const { limit } = parseBody(authFailuresQuery, query);
    const now = new Date();
    return {
      windowSeconds: this.authFailures.windowSeconds,
      threshold: this.authFailures.threshold,
      total: this.authFailures.totalFailures,
      recent: this.authFailures.recentFailures(limit),
      ...this.authFailures.counts(now),
    };
  }
}
