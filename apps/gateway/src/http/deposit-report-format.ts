import type { DepositReport, DepositTotals } from '../../../../libs/persistence/src';
import { csvText } from './report-csv';
import { isBareDate } from './report-period';

const KINDS = [
  ['alkaline', '碱性 alkaline'],
  ['lithium', '锂 lithium'],
  ['button', '纽扣 button'],
  ['rechargeable', '充电 rechargeable'],
  ['other', '其他 other'],
] as const;

/** What the reports count, said once for the API description, the JSON and the CSV. */
export const COUNTED_ZH = '计入: 已入账(credited)及待审(pending)的投递——电池已在箱内; 被拒(rejected)的投递另列, 按原因';
export const COUNTED_EN =
  'counted: deposits credited or pending (the batteries are in the bin, even if the card was unknown or the points await review); ' +
  'rejected deposits are listed apart, by reason';

/** Kilograms for people: grouped thousands, one decimal from 1 kg on, to the gram below. */
export function formatKilograms(kg: number): string {
  const digits = Math.abs(kg) >= 1 ? 1 : 3;
  return kg.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1 + months, d));
  return t.toISOString().slice(0, 10);
}

function dayBefore(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

const MONTHS_EN = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const QUARTERS_ZH = ['一', '二', '三', '四'];

/**
 * The period in words, Chinese and English: this quarter (the quarter holding
 * `today`), a named quarter, month or year, else the days from–to (inclusive).
 * `from` and `to` are a half-open period; bare dates read as calendar days.
 */
export function periodWords(from: string, to: string, today: string): { zh: string; en: string } {
  if (isBareDate(from) && isBareDate(to)) {
    const [y, m, d] = from.split('-').map(Number) as [number, number, number];
    if (d === 1 && (m - 1) % 3 === 0 && addMonths(from, 3) === to) {
      const q = (m - 1) / 3;
      if (today >= from && today < to) return { zh: '本季度', en: 'this quarter' };
      return { zh: `${y}年第${QUARTERS_ZH[q]}季度`, en: `in Q${q + 1} ${y}` };
    }
    if (d === 1 && m === 1 && addMonths(from, 12) === to) return { zh: `${y}年`, en: `in ${y}` };
    if (d === 1 && addMonths(from, 1) === to) {
      if (today >= from && today < to) return { zh: '本月', en: 'this month' };
      return { zh: `${y}年${m}月`, en: `in ${MONTHS_EN[m - 1]} ${y}` };
    }
    const last = dayBefore(to);
    if (last === from) return { zh: `${from}`, en: `on ${from}` };
    return { zh: `${from}至${last}`, en: `from ${from} to ${last}` };
  }
  return { zh: `${from}至${to}(不含)`, en: `from ${from} to ${to} (exclusive)` };
}

/** The district's environmental headline: 本季度共回收废旧电池 X 千克 / X kg of batteries kept out of landfill this quarter. */
export function headlineText(kilograms: number, period: { zh: string; en: string }): { zh: string; en: string } {
  const kg = formatKilograms(kilograms);
  return {
    zh: `${period.zh}共回收废旧电池 ${kg} 千克`,
    en: `${kg} kg of batteries kept out of landfill ${period.en}`,
  };
}

export interface DepositHeadline extends DepositTotals {
  kilograms: number;
  batteries: number;
  headline: { zh: string; en: string };
  counted: { zh: string; en: string };
}

export function depositHeadline(totals: DepositTotals, period: { from: string; to: string }, today: string): DepositHeadline {
  return {
    ...totals,
    kilograms: totals.total.kilograms,
    batteries: totals.total.batteries,
    headline: headlineText(totals.total.kilograms, periodWords(period.from, period.to, today)),
    counted: { zh: COUNTED_ZH, en: COUNTED_EN },
  };
}

/** The local calendar day of `now` in a time zone, `YYYY-MM-DD`. */
export function localDay(now: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** The calendar quarter holding `now` in a time zone, as bare dates [from, to). */
export function quarterOf(now: Date, timeZone: string): { from: string; to: string } {
  const [y, m] = localDay(now, timeZone).split('-').map(Number) as [number, number];
  const from = `${y}-${String(m - ((m - 1) % 3)).padStart(2, '0')}-01`;
  return { from, to: addMonths(from, 3) };
}

/**
 * The deposit report as a spreadsheet (UTF-8 with BOM, CRLF, every field
 * quoted): a title row, one row per period (and bin), a total row, then the
 * rejected deposits by reason.
 */
export function depositReportCsv(r: DepositReport): string {
  const rows: (string | number | null)[][] = [];
  rows.push(['社区 community', r.communityName, '从 from', r.from, '到 to (不含 exclusive)', r.to, '时区 time zone', r.timezone]);
  rows.push(['说明 note', `${COUNTED_ZH} / ${COUNTED_EN}`]);
  const byBin = r.by === 'bin';
  rows.push([
    r.groupBy === 'month' ? '月份 month' : '日期 day',
    ...(byBin ? ['回收箱 bin', '名称 label'] : []),
    '投递次数 deposits',
    ...KINDS.map(([, header]) => `${header} 节 batteries`),
    '电池合计 batteries',
    '重量 千克 kg',
    '无重量投递 deposits without weight',
    '已发积分 points issued',
    '待审积分 points pending',
  ]);
  const line = (head: (string | number | null)[], s: DepositReport['total']) => [
    ...head,
    s.deposits,
    ...KINDS.map(([kind]) => s.kinds[kind]),
    s.batteries,
    s.kilograms,
    s.depositsWithoutWeight,
    s.pointsIssued,
    s.pointsPending,
  ];
  for (const row of r.rows) rows.push(line(byBin ? [row.period, row.deviceId ?? '', row.deviceLabel ?? ''] : [row.period], row));
  rows.push(line(byBin ? ['合计 TOTAL', '', ''] : ['合计 TOTAL'], r.total));
  rows.push([]);
  rows.push(['被拒投递 rejected deposits', '原因 reason', '投递次数 deposits', '电池 batteries']);
  for (const rej of r.rejected) rows.push(['', rej.reason, rej.deposits, rej.batteries]);
  rows.push(['合计 TOTAL', '', r.rejected.reduce((s, x) => s + x.deposits, 0), r.rejected.reduce((s, x) => s + x.batteries, 0)]);
  return csvText(rows);
}
