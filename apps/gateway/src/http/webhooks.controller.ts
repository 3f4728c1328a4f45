import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { HealthRepository, type WebhookRecord } from '../../../../libs/persistence/src';
import { AdminAuthGuard } from './admin-auth.guard';
import { auditBefore } from './audit.interceptor';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

export const addWebhookBody = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL such as https://ops.example.cn/hooks/jifen' }).max(2000),
    secret: z.string().min(16, 'secret must be at least 16 characters (it signs each body with HMAC-SHA256)').max(200).optional(),
    description: z.string().trim().max(200).optional(),
  })
  .strict();

/** The secret signs notifications; it is never shown again. */
const present = ({ secret: _secret, ...rest }: WebhookRecord) => rest;

/** Where alert notifications go (besides WEBHOOK_URLS): administrators only. */
@ApiTags('alerts')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(@Inject(HealthRepository) private readonly store: HealthRepository) {}

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: 'Webhook endpoints added through the API (secrets not shown)' })
  async list() {
    return { webhooks: (await this.store.webhooks()).map(present) };
  }

  @Post()
  @HttpCode(201)
  @Roles('admin')
  @ApiOperation({ summary: 'Post every alert opening and resolution to this URL (JSON; X-Jifen-Signature when a secret is set)' })
  @ApiBody({ schema: openApiSchema(addWebhookBody) })
  async add(@Body() body: unknown, @CurrentActor() actor: Actor) {
    const input = parseBody(addWebhookBody, body);
    const created = await this.store.addWebhook({
      url: input.url,
      secret: input.secret ?? null,
      description: input.description ?? null,
      createdBy: actor.label,
    });
    return present(created);
  }

  @Delete(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Stop posting to this endpoint' })
  async remove(@Param('id') id: string, @Req() req: object) {
    const removed = present(await this.store.removeWebhook(id));
    auditBefore(req, removed);
    return removed;
  }
}
