import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { AUTO_CLOSE_POLICIES, DomainError, pointsPolicySchema, weeklyRuleSchema } from '../../../../libs/domain/src';
import { ActivityRepository, type ActivityRecord, AttendanceRepository, type AttendanceSheet } from '../../../../libs/persistence/src';
import { IngestService } from '../ingest/ingest.service';
import { AdminAuthGuard } from './admin-auth.guard';
import { auditBefore } from './audit-entry';
import { parseId } from './communities.controller';
import { assertCommunityAccess } from './community-access';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { csvText } from './report-csv';
import { type Actor, CurrentActor, Roles } from './roles';

const isoTime = (field: string) =>
  z.iso.datetime({ offset: true, message: `${field} must be an ISO time, e.g. 2026-11-28T09:00:00+08:00` });

/** The settings an activity (or a recurrence's occurrences) is made with. */
const settingsShape = {
  siteId: z.uuid('siteId must be the id of a site'),
  categoryCode: z.string().trim().min(1, 'categoryCode is required: a sub-item of the category tree, e.g. C03-02').max(32),
  title: z.string().trim().min(1, 'title is required').max(100),
  opensBeforeMinutes: z.number().int().min(0).max(1440),
  closesAfterMinutes: z.number().int().min(0).max(1440),
  checkOutGraceMinutes: z.number().int().min(0).max(1440),
  capacity: z.number().int().min(1).max(100_000).nullable(),
  policy: pointsPolicySchema,
  requiresReview: z.boolean(),
  autoClose: z.enum(AUTO_CLOSE_POLICIES),
  debounceSeconds: z.number().int().min(0).max(3600),
};
const withDefaults = {
  ...settingsShape,
  opensBeforeMinutes: settingsShape.opensBeforeMinutes.default(30),
  closesAfterMinutes: settingsShape.closesAfterMinutes.default(15),
  checkOutGraceMinutes: settingsShape.checkOutGraceMinutes.default(30),
  capacity: settingsShape.capacity.default(null),
  requiresReview: settingsShape.requiresReview.default(false),
  autoClose: settingsShape.autoClose.default('credit-to-end'),
  debounceSeconds: settingsShape.debounceSeconds.default(60),
};

export const activityBody = z
  .object({
    communityId: z.uuid('communityId must be the id of a community'),
    startsAt: isoTime('startsAt'),
    endsAt: isoTime('endsAt'),
    ...withDefaults,
  })
  .refine((b) => Date.parse(b.endsAt) > Date.parse(b.startsAt), { message: 'endsAt must be after startsAt', path: ['endsAt'] });
export const activityPatchBody = z
  .object({ ...settingsShape, startsAt: isoTime('startsAt'), endsAt: isoTime('endsAt'), isCancelled: z.boolean() })
  .partial();
export const recurrenceBody = z.object({
  communityId: z.uuid('communityId must be the id of a community'),
  rule: weeklyRuleSchema,
  ...withDefaults,
});
export const manualBody = z.object({
  residentId: z.uuid('residentId must be the id of a resident'),
  action: z.enum(['check-in', 'check-out']),
  /** When the resident arrived or left; default now. Judged like a tap at that time. */
  at: isoTime('at').optional(),
  reason: z.string().trim().min(1, 'reason is required: say why there was no card tap').max(500),
});
export const reviewBody = z.object({
  action: z.enum(['approve', 'reject']),
  /** Some attendances; absent: every pending check-in of the activity. */
  attendanceIds: z.array(z.uuid('attendance ids are uuids')).min(1).max(5000).optional(),
  reason: z.string().trim().min(1, 'reason is required').max(500),
});
const listQuery = z.object({
  communityId: z.uuid('communityId must be the id of a community'),
  from: isoTime('from').optional(),
  to: isoTime('to').optional(),
  siteId: z.uuid('siteId must be the id of a site').optional(),
});

const ORGANISERS = ['admin', 'clerk', 'credit_admin'] as const;
const READERS = ['admin', 'clerk', 'credit_admin', 'credit_collector', 'auditor'] as const;
/** How often the live stream looks for changes (any replica may have taken the tap). */
export const LIVE_POLL_MS = 1000;

const STATUS_LABEL: Record<string, string> = { in: '在场 in', out: '已签退 out', closed: '活动结束 closed at end' };

export function attendanceCsv(sheet: AttendanceSheet): string {
  const local = new Intl.DateTimeFormat('sv-SE', { timeZone: sheet.timezone, dateStyle: 'short', timeStyle: 'medium' });
  const at = (d: Date | null) => (d ? local.format(d) : '');
  const rows: (string | number | null)[][] = [
    [`活动 activity: ${sheet.activity.title}`, `${at(sheet.activity.startsAt)} – ${at(sheet.activity.endsAt)} (${sheet.timezone})`],
    [
      '姓名 name',
      '居民编号 resident id',
      '签到时间 checked in',
      '签退时间 checked out',
      '状态 status',
      '志愿时长(分钟) volunteer minutes',
      '积分 points',
      '待审核积分 pending points',
    ],
  ];
  for (const a of sheet.attendance) {
    rows.push([
      a.residentName,
      a.residentId,
      at(a.checkedInAt),
      at(a.checkedOutAt),
      STATUS_LABEL[a.status] ?? a.status,
      a.minutes,
      a.points,
      a.pendingPoints,
    ]);
  }
  const sum = (f: (a: AttendanceSheet['attendance'][number]) => number) => sheet.attendance.reduce((s, a) => s + f(a), 0);
  rows.push([
    '合计 TOTAL',
    `${sheet.counts.total} 人 residents`,
    '',
    '',
    '',
    sum((a) => a.minutes),
    sum((a) => a.points),
    sum((a) => a.pendingPoints),
  ]);
  return csvText(rows);
}

@ApiTags('activities')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1')
export class ActivitiesController {
  constructor(
    @Inject(ActivityRepository) private readonly activities: ActivityRepository,
    @Inject(AttendanceRepository) private readonly attendance: AttendanceRepository,
    @Inject(IngestService) private readonly ingest: IngestService,
  ) {}

  private async activity(id: string, actor: Actor): Promise<ActivityRecord> {
    const found = await this.activities.find(parseId(id, 'activity'));
    if (!found) throw new DomainError('not-found', `no activity with id ${id}`);
    assertCommunityAccess(actor, found.communityId);
    return found;
  }

  @Post('activities')
  @HttpCode(201)
  @Roles(...ORGANISERS)
  @ApiOperation({
    summary: 'Create an activity: site, category sub-item, times, check-in window, capacity, points policy',
    description:
      'policy: {"kind":"attendance","points":5} or {"kind":"hours","pointsPerHour":10,"roundingMinutes":15,"minimumMinutes":30}. Check-in opens opensBeforeMinutes before the start and closes closesAfterMinutes after it.',
  })
  @ApiBody({ schema: openApiSchema(activityBody) })
  async create(@Body() body: unknown, @CurrentActor() actor: Actor) {
    const input = parseBody(activityBody, body);
    assertCommunityAccess(actor, input.communityId);
    const created = await this.activities.create({ ...input, startsAt: new Date(input.startsAt), endsAt: new Date(input.endsAt) });
    await this.ingest.forgetSiteActivities(created.siteId);
    return created;
  }

  @Post('activity-recurrences')
  @HttpCode(201)
  @Roles(...ORGANISERS)
  @ApiOperation({
    summary: 'Create a weekly recurring activity ("every Saturday 9:00–11:00"): all its occurrences at once',
    description:
      "rule: { weekdays (1 Monday … 7 Sunday), startTime, endTime (HH:MM on the community's clock), fromDate, untilDate } — at most 366 days.",
  })
  @ApiBody({ schema: openApiSchema(recurrenceBody) })
  async createRecurrence(@Body() body: unknown, @CurrentActor() actor: Actor) {
    const { communityId, rule, ...settings } = parseBody(recurrenceBody, body);
    assertCommunityAccess(actor, communityId);
    const created = await this.activities.createRecurrence({ communityId, rule, settings, actor: actor.label });
    await this.ingest.forgetSiteActivities(settings.siteId);
    return created;
  }

  @Get('activities')
  @Roles(...READERS)
  @ApiOperation({ summary: "A community's activities, by start (from/to: those overlapping that time)" })
  async list(@Query() query: unknown, @CurrentActor() actor: Actor) {
    const q = parseBody(listQuery, query);
    assertCommunityAccess(actor, q.communityId);
    return {
      activities: await this.activities.list({
        communityId: q.communityId,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        siteId: q.siteId,
      }),
    };
  }

  @Get('activities/:id')
  @Roles(...READERS)
  @ApiOperation({ summary: 'One activity' })
  async get(@Param('id') id: string, @CurrentActor() actor: Actor) {
    return this.activity(id, actor);
  }

  @Patch('activities/:id')
  @Roles(...ORGANISERS)
  @ApiOperation({
    summary: 'Change or cancel an activity',
    description:
      'Times, site, window and points policy are fixed once a resident has checked in; title, category, capacity and cancelling are not.',
  })
  @ApiBody({ schema: openApiSchema(activityPatchBody) })
  async patch(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor, @Req() req: object) {
    const before = await this.activity(id, actor);
    auditBefore(req, before);
    const { startsAt, endsAt, ...rest } = parseBody(activityPatchBody, body);
    const updated = await this.activities.update(before.id, {
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
      ...(startsAt ? { startsAt: new Date(startsAt) } : {}),
      ...(endsAt ? { endsAt: new Date(endsAt) } : {}),
    });
    await this.ingest.forgetSiteActivities(before.siteId);
    if (updated.siteId !== before.siteId) await this.ingest.forgetSiteActivities(updated.siteId);
    return updated;
  }

  @Get('activities/:id/attendance')
  @Roles(...READERS)
  @ApiOperation({ summary: 'Live attendance: who is in, who has left, counts, points (pending ones too)' })
  async sheet(@Param('id') id: string, @CurrentActor() actor: Actor) {
    await this.activity(id, actor);
    return (await this.attendance.sheet(id))!;
  }

  @Get('activities/:id/attendance/stream')
  @Roles(...READERS)
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: 'Live attendance as server-sent events: an `attendance` event with the whole sheet at once and after every change',
    description:
      'Send the bearer token in the Authorization header (fetch, not EventSource). Changes from every replica are seen within a second. An unknown activity or a refused caller gets the usual JSON error, before any event.',
  })
  async stream(@Param('id') id: string, @CurrentActor() actor: Actor, @Req() req: Request, @Res() res: Response) {
    // Checked before the stream starts (Nest's @Sse commits its headers first, so a
    // refusal could only be an `error` event): errors stay { "error": { code, message } }.
    await this.activity(id, actor);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    let version: string | null = null;
    let busy = false;
    let idle = 0;
    const look = async () => {
      if (busy || res.writableEnded) return;
      busy = true;
      try {
        const next = await this.attendance.sheetVersion(id);
        if (next !== version) {
          version = next;
          const sheet = await this.attendance.sheet(id);
          if (sheet && !res.writableEnded) res.write(`event: attendance\ndata: ${JSON.stringify(sheet)}\n\n`);
          idle = 0;
        } else if (++idle % 15 === 0) {
          // A comment now and then: proxies keep the connection, and a client that left is noticed.
          res.write(': keep-alive\n\n');
        }
      } catch {
        res.end();
      } finally {
        busy = false;
      }
    };
    void look();
    const timer = setInterval(() => void look(), LIVE_POLL_MS);
    req.on('close', () => {
      clearInterval(timer);
      if (!res.writableEnded) res.end();
    });
  }

  @Get('activities/:id/attendance/export')
  @Roles(...READERS)
  @ApiProduces('text/csv')
  @ApiOperation({ summary: "The activity's attendance and volunteer hours as CSV (UTF-8 with BOM: Chinese headers open right in Excel)" })
  async export(@Param('id') id: string, @CurrentActor() actor: Actor, @Res() res: Response) {
    await this.activity(id, actor);
    const sheet = (await this.attendance.sheet(id))!;
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="attendance-${id}.csv"`);
    res.send(attendanceCsv(sheet));
  }

  @Post('activities/:id/attendance/manual')
  @Roles(...ORGANISERS)
  @ApiOperation({
    summary: 'Check a resident in or out by hand (no card), with a reason; audited',
    description:
      'Judged exactly like a card tap at `at` (default now): the same window, capacity, debounce and points, so never more than a tap would give.',
  })
  @ApiBody({ schema: openApiSchema(manualBody) })
  async manual(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const activity = await this.activity(id, actor);
    const input = parseBody(manualBody, body);
    const at = input.at ? new Date(input.at) : new Date();
    if (at.getTime() > Date.now() + 60_000) throw new DomainError('validation-failed', 'at must not be in the future');
    const result = await this.attendance.manualCheck({
      activityId: activity.id,
      residentId: input.residentId,
      action: input.action,
      at,
      reason: input.reason,
      actor: actor.label,
    });
    return { ...result, action: input.action, at, reason: input.reason };
  }

  @Post('activities/:id/attendance/review')
  @Roles(...ORGANISERS)
  @ApiOperation({
    summary: 'Approve (settle) or reject (void) pending check-in points: some attendances, or all of the activity',
    description:
      'For activities with requiresReview (后台审核). Organisers and credit administrators review; the ledger records who and why.',
  })
  @ApiBody({ schema: openApiSchema(reviewBody) })
  async review(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const activity = await this.activity(id, actor);
    const input = parseBody(reviewBody, body);
    const result = await this.attendance.review({
      activityId: activity.id,
      attendanceIds: input.attendanceIds ?? null,
      action: input.action === 'approve' ? 'settle' : 'void',
      reason: input.reason,
      actor: actor.label,
      scope: actor.communityId,
    });
    return { action: input.action, ...result };
  }

  @Get('residents/:id/volunteer-hours')
  @Roles(...READERS)
  @ApiOperation({ summary: "A resident's volunteer hours: minutes counted at hours-mode activities" })
  async volunteerHours(@Param('id') id: string, @CurrentActor() actor: Actor) {
    const hours = await this.attendance.volunteerHours(parseId(id, 'resident'));
    if (!hours) throw new DomainError('not-found', `no resident with id ${id}`);
    assertCommunityAccess(actor, hours.communityId);
    return hours;
  }
}
