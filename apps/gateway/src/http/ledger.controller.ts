import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { LedgerRepository } from '../../../../libs/persistence/src';
import { AdminAuthGuard } from './admin-auth.guard';
import { assertCommunityAccess } from './community-access';
import { parseId } from './communities.controller';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

export const creditBody = z.object({
  amount: z.number().int('amount must be a whole number of points').min(1, 'amount must be at least 1').max(100_000),
  reason: z.string().trim().min(1, 'reason is required: say why the points are given').max(500),
  /** Collectors' credits are always pending; administrators may ask for pending too. */
  pending: z.boolean().default(false),
});

export const closePendingBody = z.object({
  entryIds: z.array(z.string().regex(/^\d+$/, 'entry ids are whole numbers')).min(1, 'name at least one entry').max(1000),
  reason: z.string().trim().min(1, 'reason is required').max(500),
});

export const reverseBody = z.object({ reason: z.string().trim().min(1, 'reason is required: say what was wrong').max(500) });

const pendingQuery = z.object({
  communityId: z.uuid('communityId must be the id of a community'),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
const verifyQuery = z.object({ communityId: z.uuid('communityId must be the id of a community').optional() });

/** An API write's ledger idempotency key: the caller's Idempotency-Key when sent, so a retry never posts twice. */
function idempotencyKeyOf(actor: Actor, header: string | undefined): string {
  return header ? `api:${actor.label}:${header}` : `api:${randomUUID()}`;
}

function parseEntryId(id: string): string {
  if (!/^\d{1,18}$/.test(id)) throw new DomainError('not-found', `no ledger entry ${id}`);
  return id;
}

@ApiTags('ledger')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1')
export class LedgerController {
  constructor(@Inject(LedgerRepository) private readonly ledger: LedgerRepository) {}

  @Post('residents/:id/credits')
  @HttpCode(201)
  @Roles('admin', 'credit_admin', 'credit_collector')
  @ApiOperation({
    summary: 'Credit points a device did not see (manual credit with a reason)',
    description: "A credit collector's credit is pending until a credit administrator settles it; pending points show but cannot be spent.",
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'the same key never posts twice' })
  @ApiBody({ schema: openApiSchema(creditBody) })
  async credit(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentActor() actor: Actor,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ) {
    const input = parseBody(creditBody, body);
    const result = await this.ledger.credit({
      residentId: parseId(id, 'resident'),
      amount: input.amount,
      reason: input.reason,
      actor: actor.label,
      idempotencyKey: idempotencyKeyOf(actor, idempotencyKey),
      isPending: input.pending || actor.role === 'credit_collector',
      scope: actor.communityId,
    });
    return { entry: result.entries[0], isReplay: result.isReplay };
  }

  @Get('ledger/pending')
  @Roles('admin', 'credit_admin', 'credit_collector', 'auditor')
  @ApiOperation({ summary: 'The review queue: pending entries of a community not yet settled or voided, oldest first' })
  @ApiQuery({ name: 'communityId', required: true })
  @ApiQuery({ name: 'limit', required: false })
  async pending(@Query() query: unknown, @CurrentActor() actor: Actor) {
    const { communityId, limit } = parseBody(pendingQuery, query);
    assertCommunityAccess(actor, communityId);
    return { entries: await this.ledger.listPending(communityId, limit) };
  }

  @Post('ledger/pending/settle')
  @HttpCode(200)
  @Roles('admin', 'credit_admin')
  @ApiOperation({ summary: 'Settle pending entries (one or many, all or none): their points become spendable' })
  @ApiBody({ schema: openApiSchema(closePendingBody) })
  async settle(@Body() body: unknown, @CurrentActor() actor: Actor) {
    const input = parseBody(closePendingBody, body);
    const result = await this.ledger.closePending({ ...input, action: 'settle', actor: actor.label, scope: actor.communityId });
    return { entries: result.entries };
  }

  @Post('ledger/pending/void')
  @HttpCode(200)
  @Roles('admin', 'credit_admin')
  @ApiOperation({ summary: 'Void pending entries (one or many, all or none): their points are dropped' })
  @ApiBody({ schema: openApiSchema(closePendingBody) })
  async void(@Body() body: unknown, @CurrentActor() actor: Actor) {
    const input = parseBody(closePendingBody, body);
    const result = await this.ledger.closePending({ ...input, action: 'void', actor: actor.label, scope: actor.communityId });
    return { entries: result.entries };
  }

  @Post('ledger/entries/:id/reverse')
  @HttpCode(201)
  @Roles('admin', 'credit_admin')
  @ApiOperation({ summary: 'Correct an entry with a reversal that points at it (an entry is reversed at most once)' })
  @ApiBody({ schema: openApiSchema(reverseBody) })
  async reverse(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const { reason } = parseBody(reverseBody, body);
    const result = await this.ledger.reverse({ entryId: parseEntryId(id), reason, actor: actor.label, scope: actor.communityId });
    return { entry: result.entries[0] };
  }

  @Get('ledger/entries/:id')
  @Roles('admin', 'credit_admin', 'credit_collector', 'auditor')
  @ApiOperation({ summary: 'One ledger entry with its chain position and hash' })
  async entry(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const entry = await this.ledger.find(parseEntryId(id), actor.communityId);
    if (!entry) throw new DomainError('not-found', `no ledger entry ${id}`);
    return entry;
  }

  @Get('ledger/verify')
  @Roles('admin', 'credit_admin', 'auditor')
  @ApiOperation({
    summary: 'Recompute the hash chains and every balance; name the first entry that does not match',
    description:
      'Streams through the ledger page by page. `ok: false` with `firstMismatch` means the ledger was altered outside the gateway.',
  })
  @ApiQuery({ name: 'communityId', required: false })
  async verify(@Query() query: unknown, @CurrentActor() actor: Actor) {
    const { communityId } = parseBody(verifyQuery, query);
    // Staff of one community verify their own chain; district staff any or all.
    const scoped = communityId ?? actor.communityId;
    if (scoped) assertCommunityAccess(actor, scoped);
    return this.ledger.verify(scoped ? { communityId: scoped } : {});
  }
}
