import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Actor, CurrentActor, Roles, STAFF_ROLES } from './roles';

/** Who the token belongs to: the web pages' login checks a token with this. */
@ApiTags('staff')
@ApiBearerAuth()
@Roles(...STAFF_ROLES)
@Controller('api/v1/me')
export class SessionController {
  @Get()
  @ApiOperation({ summary: "The caller's name, role and community (null: every community)" })
  me(@CurrentActor() actor: Actor) {
    return { name: actor.name, role: actor.role, label: actor.label, communityId: actor.communityId };
  }
}
