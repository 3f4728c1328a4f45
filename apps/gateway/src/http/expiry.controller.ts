import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ExpiryRepository } from '../../../../libs/persistence/src';
import { AdminAuthGuard } from './admin-auth.guard';
import { parseId } from './communities.controller';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { assertCommunityAccess } from './community-access';
import { type Actor, CurrentActor, Roles } from './roles';

export const expiryPolicyBody = z.object({
  policy: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('year-end') }),
      z.object({ kind: z.literal('months'), months: z.number().int('months must be a whole number').min(1).max(120) }),
    ])
    .nullable()
    .describe('null: points never expire'),
});

@ApiTags('ledger')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1')
export class ExpiryController {
  constructor(@Inject(ExpiryRepository) private readonly expiry: ExpiryRepository) {}

  @Put('communities/:id/expiry-policy')
  @Roles('admin', 'credit_admin')
  @ApiOperation({
    summary: "Set or clear the community's points expiry: end of the year earned, or N months after",
    description: 'Spends use the oldest points first; a job posts what expired every hour as ledger entries to the expiry account.',
  })
  @ApiBody({ schema: openApiSchema(expiryPolicyBody) })
  async setPolicy(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const { policy } = parseBody(expiryPolicyBody, body);
    assertCommunityAccess(actor, id);
    await this.expiry.setPolicy(parseId(id, 'community'), policy);
    return { communityId: id, policy };
  }

  @Get('residents/:id/expiry')
  @Roles('admin', 'credit_admin', 'credit_collector', 'clerk', 'auditor')
  @ApiOperation({ summary: "What of the resident's points expires when (and what has expired but is not posted yet)" })
  async residentExpiry(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const expiry = await this.expiry.residentExpiry(parseId(id, 'resident'));
    assertCommunityAccess(actor, expiry.communityId);
    return expiry;
  }

  @Post('communities/:id/expiry/run')
  @HttpCode(200)
  @Roles('admin', 'credit_admin')
  @ApiOperation({ summary: 'Post what has expired now, instead of waiting for the hourly job' })
  async run(@Param('id') id: string, @CurrentActor() actor: Actor) {
    assertCommunityAccess(actor, id);
    return this.expiry.run(parseId(id, 'community'));
  }
}
