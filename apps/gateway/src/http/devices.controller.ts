import { randomBytes } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { CommunityRepository, DeadLetterRepository, DeviceRepository } from '../../../../libs/persistence/src';
import { DEVICE_ID_PATTERN, deviceTopic } from '../../../../libs/protocol/src';
import { DeviceLivenessTracker } from '../ingest/device-liveness';
import { DeviceAccess } from '../fleet/device-access';
import { generateDevicePassword, hashDevicePassword } from '../registry/device-credentials';
import { AdminAuthGuard } from './admin-auth.guard';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { Roles } from './roles';

/** Lets the API drop a live connection; a no-op with an external broker. */
export abstract class BrokerControl {
  abstract disconnectDevice(deviceId: string): boolean;
}

export const createDeviceBody = z.object({
  kind: z.enum(['bin', 'terminal', 'counter'], { error: 'kind must be bin, terminal or counter' }),
  communityId: z.uuid('communityId must be the id of a community'),
  id: z.string().regex(DEVICE_ID_PATTERN, 'id must be 1-64 letters, digits, - or _').optional(),
  label: z.string().trim().max(100).optional(),
});

export const updateDeviceBody = z.object({ isActive: z.boolean({ error: 'isActive must be true or false' }) });

const deadLetterQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  deviceId: z.string().regex(DEVICE_ID_PATTERN).optional(),
  before: z.string().regex(/^\d+$/, 'before must be a dead-letter id').optional(),
});

@ApiTags('devices')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1')
export class DevicesController {
  constructor(
    @Inject(DeviceRepository) private readonly devices: DeviceRepository,
    @Inject(CommunityRepository) private readonly communities: CommunityRepository,
    @Inject(DeadLetterRepository) private readonly deadLetters: DeadLetterRepository,
    @Inject(DeviceLivenessTracker) private readonly liveness: DeviceLivenessTracker,
    @Inject(DeviceAccess) private readonly access: DeviceAccess,
  ) {}

  @Post('devices')
  @HttpCode(201)
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'Register a device; its MQTT password is shown only in this answer' })
  @ApiBody({ schema: openApiSchema(createDeviceBody) })
  async create(@Body() body: unknown) {
    const input = parseBody(createDeviceBody, body);
    if (!(await this.communities.find(input.communityId))) {
      throw new DomainError('unknown-community', `no community with id ${input.communityId}; create the community first`);
    }
    const id = input.id ?? `${input.kind}-${randomBytes(5).toString('hex')}`;
    const password = generateDevicePassword();
    const device = await this.devices.create({ ...input, id, passwordHash: await hashDevicePassword(password) });
    if (!device) {
      throw new DomainError('device-id-taken', `a device with id ${id} is already registered (or was, and is retired); choose another id`);
    }
    await this.access.registered(id, password);
    return {
      ...device,
      mqtt: { username: id, password, clientId: id, topicRoot: deviceTopic(id, 'events').replace(/\/events$/, '') },
    };
  }

  @Get('devices/:id')
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({ summary: 'A device with its liveness and event counts by outcome' })
  async get(@Param('id') id: string) {
    const device = await this.devices.find(id);
    if (!device) throw new DomainError('not-found', `no device with id ${id}`);
    return { ...device, liveness: this.liveness.get(id), eventsByResult: await this.devices.eventCounts(id) };
  }

  @Patch('devices/:id')
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'Disable or re-enable a device; a disabled device is disconnected at once' })
  @ApiBody({ schema: openApiSchema(updateDeviceBody) })
  async update(@Param('id') id: string, @Body() body: unknown) {
    const { isActive } = parseBody(updateDeviceBody, body);
    const change = await this.devices.setActive(id, isActive);
    if (!change.ok) throw deviceChangeError(id, change.reason);
    if (isActive) await this.access.enabled(id);
    else await this.access.disabled(id);
    return change.device;
  }

  @Get('dead-letters')
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({ summary: 'Messages that could not be answered with an ack, newest first' })
  @ApiQuery({ name: 'deviceId', required: false })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 100, maximum: 1000 } })
  @ApiQuery({ name: 'before', required: false, description: 'page: only letters with a smaller id' })
  async deadLettersList(@Query() query: unknown) {
    const q = parseBody(deadLetterQuery, query);
    return { deadLetters: await this.deadLetters.list({ limit: q.limit, deviceId: q.deviceId, beforeId: q.before }) };
  }
}

export function deviceChangeError(id: string, reason: 'not-found' | 'retired'): DomainError {
  return reason === 'retired'
    ? new DomainError('conflict', `device ${id} is retired: it cannot log in or be changed again; register a new device instead`)
    : new DomainError('not-found', `no device with id ${id}`);
}
