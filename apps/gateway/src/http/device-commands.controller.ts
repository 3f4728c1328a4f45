import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { DeviceRepository } from '../../../../libs/persistence/src';
import { COMMAND_NAMES, commandParamsSchemas, describeIssues } from '../../../../libs/protocol/src';
import { DeviceCommandService } from '../fleet/device-commands.service';
import { assertCommunityAccess } from './community-access';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

export const createCommandBody = z.object({
  name: z.enum(COMMAND_NAMES, { error: `name must be one of ${COMMAND_NAMES.join(', ')}` }),
  params: z.record(z.string(), z.unknown()).default({}),
  expiresInSeconds: z
    .number({ error: 'expiresInSeconds must be a number' })
    .int()
    .min(10, 'expiresInSeconds must be at least 10')
    .max(7 * 24 * 3600, 'expiresInSeconds must be at most 7 days (604800)')
    .default(3600),
});

/** Commands to a device (issue #6): queued while it is offline, sent once, result recorded. */
@ApiTags('devices')
@ApiBearerAuth()
@Controller('api/v1')
export class DeviceCommandsController {
  constructor(
    @Inject(DeviceRepository) private readonly devices: DeviceRepository,
    @Inject(DeviceCommandService) private readonly commands: DeviceCommandService,
  ) {}

  @Post('devices/:id/commands')
  @HttpCode(201)
  @Roles('admin', 'operator')
  @ApiOperation({
    summary:
      'Queue a command (reboot, set-config, show-message, open-door); sent at once if the device is online, else when it comes online',
  })
  @ApiBody({ schema: openApiSchema(createCommandBody) })
  async create(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const input = parseBody(createCommandBody, body);
    const paramsCheck = commandParamsSchemas[input.name].safeParse(input.params);
    if (!paramsCheck.success) {
      throw new DomainError('validation-failed', `params of ${input.name}: ${describeIssues(paramsCheck.error.issues)}`, {
        fields: paramsCheck.error.issues.map((i) => ({ field: ['params', ...i.path].join('.'), problem: i.message })),
      });
    }
    const device = await this.devices.find(id);
    if (!device) throw new DomainError('not-found', `no device with id ${id}`);
    assertCommunityAccess(actor, device.communityId);
    if (device.state !== 'active') {
      throw new DomainError('conflict', `device ${id} is ${device.state}: it cannot log in to take a command; re-enable it first`);
    }
    return this.commands.create({
      deviceId: id,
      name: input.name,
      params: paramsCheck.data,
      expiresInSeconds: input.expiresInSeconds,
      createdBy: actor.label,
    });
  }

  @Get('devices/:id/commands')
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({ summary: "A device's commands, newest first, with status (queued, sent, succeeded, failed, expired) and result" })
  async list(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const device = await this.devices.find(id);
    if (!device) throw new DomainError('not-found', `no device with id ${id}`);
    assertCommunityAccess(actor, device.communityId);
    return { commands: await this.commands.list(id) };
  }
}
