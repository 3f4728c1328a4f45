import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { SupermarketRepository } from '../../../../libs/persistence/src';
import { AdminAuthGuard } from './admin-auth.guard';
import { parseId } from './communities.controller';
import { assertCommunityAccess } from './community-access';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

const itemName = z.string().trim().min(1, 'name is required').max(100, 'name is at most 100 characters');
const pricePoints = z.number().int('pricePoints must be a whole number').min(1, 'pricePoints must be at least 1').max(1_000_000);
const stock = z.number().int('stock must be a whole number').min(0, 'stock cannot be negative').max(1_000_000);

export const createItemBody = z.object({ name: itemName, pricePoints, stock: stock.default(0), isActive: z.boolean().default(true) });

export const updateItemBody = z
  .object({ name: itemName.optional(), pricePoints: pricePoints.optional(), stock: stock.optional(), isActive: z.boolean().optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'change at least one of name, pricePoints, stock, isActive');

export const restockBody = z.object({
  delta: z
    .number()
    .int('delta must be a whole number')
    .min(-1_000_000)
    .max(1_000_000)
    .refine((d) => d !== 0, 'delta must not be 0: positive adds goods, negative takes them off'),
});

export const redeemBody = z.object({
  residentId: z.uuid('residentId must be the id of a resident'),
  lines: z
    .array(
      z.object({
        itemId: z.uuid('itemId must be the id of a catalogue item'),
        quantity: z.number().int('quantity must be a whole number').min(1, 'quantity must be at least 1').max(1000),
      }),
    )
    .min(1, 'add at least one item to the order')
    .max(50, 'an order holds at most 50 lines; split it'),
});

export const cancelBody = z.object({ reason: z.string().trim().min(1, 'reason is required: say why the order is cancelled').max(500) });

export const giftBody = z.object({
  toResidentId: z.uuid('toResidentId must be the id of a resident'),
  amount: z.number().int('amount must be a whole number of points').min(1, 'amount must be at least 1').max(100_000),
  note: z.string().trim().max(500).optional(),
});

const catalogueQuery = z.object({ active: z.enum(['true', 'false', 'all']).default('all') });
const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

/** The ledger idempotency key of an API write: the caller's Idempotency-Key when sent, so a retry never posts twice. */
function idempotencyKeyOf(actor: Actor, header: string | undefined): string {
  return header ? `api:${actor.label}:${header}` : randomUUID();
}

@ApiTags('supermarket')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1')
export class SupermarketController {
  constructor(@Inject(SupermarketRepository) private readonly supermarket: SupermarketRepository) {}

  // Catalogue -----------------------------------------------------------------------

  @Get('communities/:id/catalogue')
  @Roles('clerk', 'credit_admin', 'admin', 'auditor')
  @ApiOperation({ summary: "The community supermarket's catalogue, by name" })
  @ApiQuery({ name: 'active', required: false, schema: { type: 'string', enum: ['true', 'false', 'all'], default: 'all' } })
  async catalogue(@Param('id') id: string, @Query() query: unknown, @CurrentActor() actor: Actor) {
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    const { active } = parseBody(catalogueQuery, query);
    return { items: await this.supermarket.listItems(communityId, active === 'all' ? 'all' : active === 'true' ? 'active' : 'inactive') };
  }

  @Post('communities/:id/catalogue')
  @HttpCode(201)
  @Roles('clerk', 'admin')
  @ApiOperation({ summary: 'Add an item to the catalogue (price in points, stock on the shelf)' })
  @ApiBody({ schema: openApiSchema(createItemBody) })
  async createItem(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    const input = parseBody(createItemBody, body);
    return this.supermarket.createItem({ communityId, ...input });
  }

  @Get('catalogue/:itemId')
  @Roles('clerk', 'credit_admin', 'admin', 'auditor')
  @ApiOperation({ summary: 'One catalogue item' })
  async item(@Param('itemId') itemId: string, @CurrentActor() actor: Actor) {
    return this.itemOf(itemId, actor);
  }

  @Patch('catalogue/:itemId')
  @Roles('clerk', 'admin')
  @ApiOperation({ summary: 'Change an item: name, price, stock on the shelf, on sale or not' })
  @ApiBody({ schema: openApiSchema(updateItemBody) })
  async updateItem(@Param('itemId') itemId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const input = parseBody(updateItemBody, body);
    const item = await this.itemOf(itemId, actor);
    return this.supermarket.updateItem(item.id, input);
  }

  @Post('catalogue/:itemId/restock')
  @HttpCode(200)
  @Roles('clerk', 'admin')
  @ApiOperation({ summary: 'Add goods to the stock (a negative delta takes damaged goods off)' })
  @ApiBody({ schema: openApiSchema(restockBody) })
  async restock(@Param('itemId') itemId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const { delta } = parseBody(restockBody, body);
    const item = await this.itemOf(itemId, actor);
    return this.supermarket.restock(item.id, delta);
  }

  // Redemptions -----------------------------------------------------------------------

  @Post('communities/:id/redemptions')
  @HttpCode(201)
  @Roles('clerk', 'admin')
  @ApiOperation({
    summary: "Redeem goods against a resident's points",
    description:
      'One ledger entry resident → supermarket for the total; stock taken in the same transaction. Not enough points or stock: nothing changes.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'the same key never redeems twice' })
  @ApiBody({ schema: openApiSchema(redeemBody) })
  async redeem(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentActor() actor: Actor,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ) {
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    const input = parseBody(redeemBody, body);
    return this.supermarket.redeem({
      communityId,
      residentId: input.residentId,
      lines: input.lines,
      actor: actor.label,
      idempotencyKey: idempotencyKeyOf(actor, idempotencyKey),
    });
  }

  @Get('redemptions/:id')
  @Roles('clerk', 'credit_admin', 'admin', 'auditor')
  @ApiOperation({ summary: 'One redemption order with its lines' })
  async order(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const order = await this.supermarket.findOrder(parseId(id, 'redemption order'));
    if (!order) throw new DomainError('not-found', `no redemption order ${id}`);
    assertCommunityAccess(actor, order.communityId);
    return order;
  }

  @Post('redemptions/:id/cancel')
  @HttpCode(200)
  @Roles('clerk', 'credit_admin', 'admin')
  @ApiOperation({
    summary: 'Cancel an order within the community’s cancel window: points back (a reversal entry), goods back in stock',
  })
  @ApiBody({ schema: openApiSchema(cancelBody) })
  async cancel(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const { reason } = parseBody(cancelBody, body);
    const order = await this.supermarket.findOrder(parseId(id, 'redemption order'));
    if (!order) throw new DomainError('not-found', `no redemption order ${id}`);
    assertCommunityAccess(actor, order.communityId);
    return this.supermarket.cancel({ orderId: order.id, reason, actor: actor.label });
  }

  @Get('residents/:id/redemptions')
  @Roles('clerk', 'credit_admin', 'admin', 'auditor')
  @ApiOperation({ summary: "A resident's redemption orders, newest first" })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 100, maximum: 1000 } })
  async ordersOf(@Param('id') id: string, @Query() query: unknown, @CurrentActor() actor: Actor) {
    const { limit } = parseBody(listQuery, query);
    await this.residentCommunity(id, actor);
    return { orders: await this.supermarket.ordersOf(id, limit) };
  }

  // Gifts -------------------------------------------------------------------------------

  @Post('residents/:id/gifts')
  @HttpCode(201)
  @Roles('clerk', 'credit_admin', 'admin')
  @ApiOperation({
    summary: 'Record a gift of points from this resident to a neighbour (same community, daily limit per giver)',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'the same key never gives twice' })
  @ApiBody({ schema: openApiSchema(giftBody) })
  async gift(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentActor() actor: Actor,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ) {
    const input = parseBody(giftBody, body);
    await this.residentCommunity(id, actor);
    return this.supermarket.gift({
      fromResidentId: id,
      toResidentId: input.toResidentId,
      amount: input.amount,
      note: input.note && input.note.length > 0 ? input.note : null,
      actor: actor.label,
      idempotencyKey: idempotencyKeyOf(actor, idempotencyKey),
    });
  }

  // The clerk's screen --------------------------------------------------------------------

  @Get('devices/:id/last-tap')
  @Roles('clerk', 'admin')
  @ApiOperation({ summary: 'The last card tap at a counter reader: who (masked name), their points, when' })
  async lastTap(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const tap = await this.supermarket.lastCounterTap(id);
    assertCommunityAccess(actor, tap.communityId);
    return tap;
  }

  private async itemOf(itemId: string, actor: Actor) {
    const item = await this.supermarket.findItem(parseId(itemId, 'catalogue item'));
    if (!item) throw new DomainError('not-found', `no catalogue item ${itemId}`);
    assertCommunityAccess(actor, item.communityId);
    return item;
  }

  private async residentCommunity(id: string, actor: Actor): Promise<string> {
    const communityId = await this.supermarket.communityOfResident(parseId(id, 'resident'));
    if (!communityId) throw new DomainError('not-found', `no resident with id ${id}`);
    assertCommunityAccess(actor, communityId);
    return communityId;
  }
}
