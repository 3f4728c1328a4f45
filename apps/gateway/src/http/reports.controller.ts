import { Controller, Get, Headers, Inject, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import { LedgerReportsRepository, type Reconciliation } from '../../../../libs/persistence/src';
import { AdminAuthGuard } from './admin-auth.guard';
import { parseId } from './communities.controller';
import { parseBody } from './parse-body';
import { csvText } from './report-csv';
import { isBareDate, periodBoundText } from './report-period';
import { type Actor, CurrentActor, Roles } from './roles';

/**
 * A period bound: an ISO date-time, or a bare date `YYYY-MM-DD`, which means
 * midnight in China (+08:00), where the communities are. Periods are half-open,
 * [from, to): a quarter is from=2026-01-01&to=2026-04-01.
 */
const periodBound = (name: string) => periodBoundText(name).transform((v) => new Date(isBareDate(v) ? `${v}T00:00:00+08:00` : v));

const periodQuery = z
  .object({ from: periodBound('from'), to: periodBound('to') })
  .refine((p) => p.from.getTime() < p.to.getTime(), { message: 'from must be before to', path: ['to'] });

const reconciliationQuery = z
  .object({ from: periodBound('from'), to: periodBound('to'), format: z.enum(['json', 'csv']).optional() })
  .refine((p) => p.from.getTime() < p.to.getTime(), { message: 'from must be before to', path: ['to'] });

const leaderboardQuery = z
  .object({ from: periodBound('from'), to: periodBound('to'), limit: z.coerce.number().int().min(1).max(500).default(10) })
  .refine((p) => p.from.getTime() < p.to.getTime(), { message: 'from must be before to', path: ['to'] });

/** Staff of one community read only that community's reports. */
function checkCommunity(actor: Actor, communityId: string): void {
  if (actor.communityId !== null && actor.communityId !== communityId) {
    throw new DomainError('forbidden', 'you work for another community: its reports are not yours to read');
  }
}

const CSV_COLUMNS = [
  ['居民ID resident id', 'residentId'],
  ['姓名 name', 'name'],
  ['楼栋 building', 'building'],
  ['户 household', 'household'],
  ['期初 opening', 'opening'],
  ['获得 earned', 'earned'],
  ['兑换 redeemed', 'redeemed'],
  ['转出 gifted out', 'giftedOut'],
  ['转入 gifted in', 'giftedIn'],
  ['过期 expired', 'expired'],
  ['调整 adjustments', 'adjustments'],
  ['期末 closing', 'closing'],
  ['期初待审 opening pending', 'openingPending'],
  ['新增待审 pending added', 'pendingAdded'],
  ['待审入账 pending settled', 'pendingSettled'],
  ['待审作废 pending voided', 'pendingVoided'],
  ['期末待审 closing pending', 'closingPending'],
  ['流水数 entries', 'entries'],
  ['核对 check', 'check'],
] as const;

/**
 * The reconciliation as a spreadsheet: UTF-8 with a BOM (Excel reads Chinese
 * names right), CRLF, every field quoted; one row per resident, a total row,
 * then the period's device events by result and reason.
 */
export function reconciliationCsv(r: Reconciliation): string {
  const rows: (string | number | null)[][] = [];
  rows.push([
    '社区 community',
    r.communityName,
    '从 from',
    r.from,
    '到 to (不含 exclusive)',
    r.to,
    '核对 check',
    r.ok ? 'OK' : '有误 MISMATCH',
  ]);
  rows.push(CSV_COLUMNS.map(([header]) => header));
  for (const res of r.residents) {
    const { problems, ...fields } = res;
    const record: Record<string, string | number | null> = { ...fields, check: problems.length === 0 ? 'OK' : problems.join('; ') };
    rows.push(CSV_COLUMNS.map(([, key]) => record[key] ?? null));
  }
  const total: Record<string, string | number | null> = {
    ...r.total,
    residentId: '合计 TOTAL',
    name: `${r.total.residents} 居民 residents`,
    building: null,
    household: null,
    check: r.total.residentsWithProblems === 0 ? 'OK' : `${r.total.residentsWithProblems} 居民有误 residents with problems`,
  };
  rows.push(CSV_COLUMNS.map(([, key]) => total[key] ?? null));
  rows.push([]);
  rows.push(['设备事件 device events', '结果 result', '原因 reason', '数量 count', '积分 points']);
  for (const e of r.events) rows.push(['', e.result, e.reason, e.count, e.points]);
  rows.push(['合计 TOTAL', '', '', r.eventsTotal, r.events.reduce((s, e) => s + e.points, 0)]);
  return csvText(rows);
}

@ApiTags('reports')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1')
export class ReportsController {
  constructor(@Inject(LedgerReportsRepository) private readonly reports: LedgerReportsRepository) {}

  @Get('residents/:id/statement')
  @Roles('admin', 'credit_admin', 'auditor', 'clerk')
  @ApiOperation({
    summary: "A resident's statement for a period [from, to)",
    description:
      "Opening balance at `from`, each entry of the period from the resident's side (signed amount, balance after, source, " +
      'counterparty account, reason, time), closing balance, pending points. Dates: YYYY-MM-DD (midnight, China time) or ISO date-time.',
  })
  @ApiQuery({ name: 'from', required: true, example: '2026-01-01' })
  @ApiQuery({ name: 'to', required: true, example: '2026-04-01' })
  async statement(@Param('id') id: string, @Query() query: unknown, @CurrentActor() actor: Actor) {
    const { from, to } = parseBody(periodQuery, query);
    const statement = await this.reports.statement(parseId(id, 'resident'), from, to);
    checkCommunity(actor, statement.resident.communityId);
    return statement;
  }

  @Get('communities/:id/reconciliation')
  @Roles('admin', 'credit_admin', 'auditor')
  @ApiOperation({
    summary: 'The reconciliation of a period (a quarter), per resident and in total, with device event counts',
    description:
      'For each resident: opening + earned - redeemed - gifted out + gifted in - expired + adjustments = closing, opening and closing ' +
      'recomputed from the ledger and checked against the stored balance-after and the resident balance; `problems` names each ' +
      'failed check, `ok` is false if any. `events`: the device events received in the period, by result and reason. ' +
      'CSV (UTF-8 with BOM, for Excel) with ?format=csv or Accept: text/csv.',
  })
  @ApiQuery({ name: 'from', required: true, example: '2026-01-01' })
  @ApiQuery({ name: 'to', required: true, example: '2026-04-01' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  @ApiProduces('application/json', 'text/csv')
  async reconciliation(
    @Param('id') id: string,
    @Query() query: unknown,
    @Headers('accept') accept: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { from, to, format } = parseBody(reconciliationQuery, query);
    const communityId = parseId(id, 'community');
    checkCommunity(actor, communityId);
    const result = await this.reports.reconciliation(communityId, from, to);
    const wantsCsv = format === 'csv' || (format === undefined && /\btext\/csv\b/i.test(accept ?? ''));
    if (!wantsCsv) return result;
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    const day = (iso: string) => iso.slice(0, 10);
    res.setHeader('Content-Disposition', `attachment; filename="reconciliation-${communityId}-${day(result.from)}-${day(result.to)}.csv"`);
    return reconciliationCsv(result);
  }

  @Get('communities/:id/leaderboards')
  @Roles('admin', 'credit_admin', 'auditor')
  @ApiOperation({
    summary: 'Top residents, households (诚信家庭) and buildings (诚信楼宇) by points earned in a period',
    description:
      'Points earned: credits from the issuance account (device events, activities, manual credits, settled pendings) less their ' +
      'reversals. A household or building sums its current residents. Ties: more points first, then the smaller id.',
  })
  @ApiQuery({ name: 'from', required: true, example: '2026-01-01' })
  @ApiQuery({ name: 'to', required: true, example: '2026-04-01' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 10, maximum: 500 } })
  async leaderboards(@Param('id') id: string, @Query() query: unknown, @CurrentActor() actor: Actor) {
    const { from, to, limit } = parseBody(leaderboardQuery, query);
    const communityId = parseId(id, 'community');
    checkCommunity(actor, communityId);
    return this.reports.leaderboards(communityId, from, to, limit);
  }
}
