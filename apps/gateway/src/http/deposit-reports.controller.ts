import { Controller, Get, Headers, Inject, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { DepositReportsRepository } from '../../../../libs/persistence/src';
import { AdminAuthGuard } from './admin-auth.guard';
import { parseId } from './communities.controller';
import { assertCommunityAccess } from './community-access';
import { COUNTED_EN, COUNTED_ZH, depositHeadline, depositReportCsv, localDay, quarterOf } from './deposit-report-format';
import { parseBody } from './parse-body';
import { periodBoundText } from './report-period';
import { type Actor, CurrentActor, Roles } from './roles';

/** Where the district is: the default quarter of a headline, and "today" for a district-wide one. */
const DISTRICT_TIME_ZONE = 'Asia/Shanghai';

const reportQuery = z.object({
  from: periodBoundText('from'),
  to: periodBoundText('to'),
  groupBy: z.enum(['day', 'month']).default('day'),
  by: z.enum(['kind', 'bin']).default('kind'),
  format: z.enum(['json', 'csv']).optional(),
});

const headlineQuery = z
  .object({ from: periodBoundText('from').optional(), to: periodBoundText('to').optional() })
  .refine((p) => (p.from === undefined) === (p.to === undefined), {
    message: 'give both from and to, or neither (this quarter)',
    path: ['to'],
  });

const PERIOD_HELP =
  'Period [from, to), half-open: a bare date YYYY-MM-DD is local midnight in the community’s time zone (community.timezone), ' +
  'an ISO date-time an instant. Days and months are the community’s local calendar, by the deposit’s occurredAt.';

const COUNTED_HELP =
  `Counted: deposits with result credited or pending (the batteries are in the bin, even when the card was unknown or the ` +
  `points await review); rejected deposits are not in the rows nor the total but listed in \`rejected\` by reason (an invalid ` +
  `one, without occurredAt, by its receivedAt). Kilograms: the sum of weightGrams / 1000; deposits without a weight (scale fault) ` +
  `are counted in depositsWithoutWeight, their weight is not guessed. pointsIssued: points of credited deposits (and of pending ` +
  `ones later claimed when their card was bound); pointsPending: points of pending deposits not claimed.`;

@ApiTags('reports')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1')
export class DepositReportsController {
  constructor(@Inject(DepositReportsRepository) private readonly reports: DepositReportsRepository) {}

  @Get('communities/:id/deposit-report')
  @Roles('admin', 'credit_admin', 'operator', 'auditor')
  @ApiOperation({
    summary: 'Batteries, kilograms and points of battery deposits per day or month, per kind or per bin',
    description:
      `One row per local day or month (groupBy), with by=bin one per bin too; each row: deposits, batteries per kind ` +
      `(alkaline, lithium, button, rechargeable, other) and in total, kilograms, depositsWithoutWeight, pointsIssued, ` +
      `pointsPending. A deposit has one weight for all its batteries, so kilograms are per period (and bin), not per kind. ` +
      `${COUNTED_HELP} ${PERIOD_HELP} CSV (UTF-8 with BOM, for Excel) with ?format=csv or Accept: text/csv.`,
  })
  @ApiQuery({ name: 'from', required: true, example: '2026-01-01' })
  @ApiQuery({ name: 'to', required: true, example: '2026-04-01' })
  @ApiQuery({ name: 'groupBy', required: false, enum: ['day', 'month'] })
  @ApiQuery({ name: 'by', required: false, enum: ['kind', 'bin'] })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  @ApiProduces('application/json', 'text/csv')
  async depositReport(
    @Param('id') id: string,
    @Query() query: unknown,
    @Headers('accept') accept: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { from, to, groupBy, by, format } = parseBody(reportQuery, query);
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    const report = await this.reports.depositReport({ communityId, from, to, groupBy, by });
    const wantsCsv = format === 'csv' || (format === undefined && /\btext\/csv\b/i.test(accept ?? ''));
    if (!wantsCsv) return { ...report, counted: { zh: COUNTED_ZH, en: COUNTED_EN } };
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="deposits-${communityId}-${from.slice(0, 10)}-${to.slice(0, 10)}.csv"`);
    return depositReportCsv(report);
  }

  @Get('communities/:id/deposit-headline')
  @Roles('admin', 'credit_admin', 'operator', 'auditor')
  @ApiOperation({
    summary: 'The environmental headline of a community: 本季度共回收废旧电池 X 千克 / X kg of batteries kept out of landfill',
    description: `Kilograms, batteries and deposits of the period (default: this calendar quarter), with the sentence. ${COUNTED_HELP} ${PERIOD_HELP}`,
  })
  @ApiQuery({ name: 'from', required: false, example: '2026-01-01' })
  @ApiQuery({ name: 'to', required: false, example: '2026-04-01' })
  async communityHeadline(@Param('id') id: string, @Query() query: unknown, @CurrentActor() actor: Actor) {
    const communityId = parseId(id, 'community');
    assertCommunityAccess(actor, communityId);
    return this.headline(communityId, query);
  }

  @Get('deposit-headline')
  @Roles('admin', 'credit_admin', 'operator', 'auditor')
  @ApiOperation({
    summary: 'The district’s environmental headline, over every community (district staff only)',
    description:
      `As the community headline, summed over every community; a bare date is local midnight in each community’s own time zone. ` +
      `Staff tied to one community use /communities/{id}/deposit-headline. ${COUNTED_HELP}`,
  })
  @ApiQuery({ name: 'from', required: false, example: '2026-01-01' })
  @ApiQuery({ name: 'to', required: false, example: '2026-04-01' })
  async districtHeadline(@Query() query: unknown, @CurrentActor() actor: Actor) {
    if (actor.communityId) {
      throw new DomainError(
        'forbidden',
        '全区数据仅限区级工作人员; 请查看本社区的数据 / the district total is for district staff: ' +
          `use /api/v1/communities/${actor.communityId}/deposit-headline`,
      );
    }
    return this.headline(null, query);
  }

  private async headline(communityId: string | null, query: unknown) {
    const parsed = parseBody(headlineQuery, query);
    const now = new Date();
    const period =
      parsed.from !== undefined && parsed.to !== undefined ? { from: parsed.from, to: parsed.to } : quarterOf(now, DISTRICT_TIME_ZONE);
    const totals = await this.reports.depositTotals(communityId, period.from, period.to);
    return depositHeadline(totals, period, localDay(now, totals.timezone ?? DISTRICT_TIME_ZONE));
  }
}
