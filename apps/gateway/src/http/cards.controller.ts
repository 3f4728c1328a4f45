import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { type CardRefusal, DomainError, isCardUid, maskName, normalizeCardUid } from '../../../../libs/domain/src';
import { type CardRecord, CardRepository, type HeldDepositClaim, ResidentRepository } from '../../../../libs/persistence/src';
import { cardUidSchema } from '../../../../libs/protocol/src';
import type { Logger } from '../logging/logger';
import { GATEWAY_LOGGER } from './audit.interceptor';
import { parseId } from './communities.controller';
import { assertCommunityAccess } from './community-access';
import { HeldDepositClaims } from './held-deposit-claims';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

/** Clerks type or paste uids in many shapes ("04:a1:b2 ..."): normalise, then check. */
const cardUid = z.preprocess((v) => (typeof v === 'string' ? normalizeCardUid(v) : v), cardUidSchema);
const reason = z.string().trim().min(1).max(500).optional();

export const bindCardBody = z.object({ uid: cardUid, reason });
export const replaceCardBody = z.object({ newUid: cardUid, reason });
export const cardChangeBody = z.object({ reason });

const WRITERS = ['admin', 'credit_admin', 'credit_collector'] as const;
const READERS = ['admin', 'credit_admin', 'credit_collector', 'clerk', 'auditor'] as const;

const STATUS_ZH: Record<CardRecord['status'], string> = { active: '正在使用', lost: '已挂失', replaced: '已换卡', unbound: '已解绑' };

function parseUid(raw: string): string {
  const uid = normalizeCardUid(raw);
  if (!isCardUid(uid)) throw new DomainError('not-found', `没有卡号为 ${raw} 的卡 / no card with uid ${raw}`);
  return uid;
}

function refusedError(uid: string, refusal: CardRefusal): DomainError {
  if (refusal.code === 'card-already-bound') {
    return new DomainError(
      'card-already-bound',
      `卡 ${uid} 已属于另一位居民（${STATUS_ZH[refusal.status]}）：请先在那位居民处解绑 / card ${uid} belongs to another resident; unbind it there first`,
      { uid, residentId: refusal.holderId, status: refusal.status },
    );
  }
  return new DomainError(
    'card-not-active',
    `卡 ${uid} ${STATUS_ZH[refusal.status]}，不能这样操作 / card ${uid} is ${refusal.status}: this change does not apply to it`,
    { uid, status: refusal.status },
  );
}

/**
 * The card lifecycle at the counter (issue #3): bind, report lost, replace,
 * unbind, and a card's history. Every change is one transaction with its
 * card_change row; a bind then lets held deposits of the card be claimed.
 */
@ApiTags('cards')
@ApiBearerAuth()
@Controller('api/v1')
export class CardsController {
  constructor(
    @Inject(CardRepository) private readonly cards: CardRepository,
    @Inject(ResidentRepository) private readonly residents: ResidentRepository,
    @Inject(HeldDepositClaims) private readonly claims: HeldDepositClaims,
    @Inject(GATEWAY_LOGGER) private readonly logger: Logger,
  ) {}

  @Post('residents/:id/cards')
  @HttpCode(201)
  @Roles(...WRITERS)
  @ApiOperation({ summary: 'Bind a card to the resident (one holder per card; an unbound card may go to anyone)' })
  @ApiBody({ schema: openApiSchema(bindCardBody) })
  async bind(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const { uid, reason } = parseBody(bindCardBody, body);
    await this.residentInScope(id, actor);
    const result = await this.cards.bind(uid, id, { actor: actor.label, reason: reason ?? null });
    if (!result.ok) {
      if (result.error === 'refused') throw refusedError(uid, result);
      throw new DomainError('not-found', `no resident with id ${id}`);
    }
    return { ...this.present(result.card), isChanged: result.isChanged, claims: await this.claim(uid, id, actor) };
  }

  @Get('residents/:id/cards')
  @Roles(...READERS)
  @ApiOperation({ summary: 'Every card the resident holds or held last, with its status' })
  async listOfResident(@Param('id') id: string, @CurrentActor() actor: Actor) {
    await this.residentInScope(id, actor);
    return { cards: (await this.cards.listForResident(id)).map((c) => this.present(c)) };
  }

  @Get('cards/:uid')
  @Roles(...READERS)
  @ApiOperation({ summary: 'A card: status, holder (name masked) and history' })
  async get(@Param('uid') raw: string, @CurrentActor() actor: Actor) {
    const uid = parseUid(raw);
    const card = await this.cards.find(uid);
    if (!card) throw new DomainError('not-found', `没有卡号为 ${uid} 的卡 / no card with uid ${uid}`);
    assertCommunityAccess(actor, card.holder.communityId);
    return {
      ...this.present(card),
      holder: { residentId: card.holder.residentId, communityId: card.holder.communityId, maskedName: maskName(card.holder.name) },
      history: card.history,
    };
  }

  @Post('cards/:uid/report-lost')
  @HttpCode(200)
  @Roles(...WRITERS, 'clerk')
  @ApiOperation({ summary: 'Report a card lost: it is blocked at once' })
  @ApiBody({ schema: openApiSchema(cardChangeBody) })
  async reportLost(@Param('uid') raw: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const uid = await this.cardInScope(raw, actor);
    const { reason } = parseBody(cardChangeBody, body);
    const result = await this.cards.reportLost(uid, { actor: actor.label, reason: reason ?? '居民挂失 / reported lost' });
    return this.changed(uid, result);
  }

  @Post('cards/:uid/replace')
  @HttpCode(200)
  @Roles(...WRITERS)
  @ApiOperation({ summary: 'Replace a card with a new one for the same resident; the old one is retired' })
  @ApiBody({ schema: openApiSchema(replaceCardBody) })
  async replace(@Param('uid') raw: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const uid = await this.cardInScope(raw, actor);
    const { newUid, reason } = parseBody(replaceCardBody, body);
    const result = await this.cards.replace(uid, newUid, { actor: actor.label, reason: reason ?? null });
    if (!result.ok) {
      if (result.error === 'refused') throw refusedError(result.uid, result);
      throw new DomainError('not-found', `没有卡号为 ${uid} 的卡 / no card with uid ${uid}`);
    }
    return {
      card: this.present(result.card),
      replacement: this.present(result.replacement),
      isChanged: result.isChanged,
      claims: await this.claim(newUid, result.replacement.residentId, actor),
    };
  }

  @Post('cards/:uid/unbind')
  @HttpCode(200)
  @Roles(...WRITERS)
  @ApiOperation({ summary: 'Unbind a card: the uid is free to be given to anyone' })
  @ApiBody({ schema: openApiSchema(cardChangeBody) })
  async unbind(@Param('uid') raw: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const uid = await this.cardInScope(raw, actor);
    const { reason } = parseBody(cardChangeBody, body);
    return this.changed(uid, await this.cards.unbind(uid, { actor: actor.label, reason: reason ?? null }));
  }

  private changed(uid: string, result: Awaited<ReturnType<CardRepository['unbind']>>) {
    if (result.ok) return { ...this.present(result.card), isChanged: result.isChanged };
    if (result.error === 'refused') throw refusedError(uid, result);
    throw new DomainError('not-found', `没有卡号为 ${uid} 的卡 / no card with uid ${uid}`);
  }

  private present(card: CardRecord) {
    return {
      uid: card.uid,
      residentId: card.residentId,
      status: card.status,
      boundAt: card.boundAt,
      statusChangedAt: card.statusChangedAt,
      replacedByUid: card.replacedByUid,
    };
  }

  /** A bind has committed: held deposits of the card may go to its holder now. A failure here does not undo the bind. */
  private async claim(uid: string, residentId: string, actor: Actor): Promise<HeldDepositClaim | null> {
    try {
      return await this.claims.claimHeldDeposits(uid, residentId, actor.label);
    } catch (err) {
      this.logger.error({ err, uid, residentId }, 'claiming held deposits after a card bind failed; the card is bound');
      return null;
    }
  }

  private async residentInScope(id: string, actor: Actor): Promise<void> {
    const resident = await this.residents.find(parseId(id, 'resident'));
    if (!resident) throw new DomainError('not-found', `no resident with id ${id}`);
    assertCommunityAccess(actor, resident.communityId);
  }

  private async cardInScope(raw: string, actor: Actor): Promise<string> {
    const uid = parseUid(raw);
    const card = await this.cards.find(uid);
    if (!card) throw new DomainError('not-found', `没有卡号为 ${uid} 的卡 / no card with uid ${uid}`);
    assertCommunityAccess(actor, card.holder.communityId);
    return uid;
  }
}
