import type { DepositReport } from '../../../../libs/persistence/src';
import { depositReportCsv, formatKilograms, headlineText, localDay, periodWords, quarterOf } from './deposit-report-format';

describe('formatKilograms', () => {
  it.each([
    [0, '0'],
    [0.085, '0.085'],
    [0.22, '0.22'],
    [1.25, '1.3'],
    [12.04, '12'],
    [1234.56, '1,234.6'],
  ])('%p kg reads %p', (kg, text) => {
    expect(formatKilograms(kg)).toBe(text);
  });
});

describe('periodWords', () => {
  const today = '2026-02-15';
  it.each([
    ['2026-01-01', '2026-04-01', '本季度', 'this quarter'],
    ['2025-10-01', '2026-01-01', '2025年第四季度', 'in Q4 2025'],
    ['2026-04-01', '2026-07-01', '2026年第二季度', 'in Q2 2026'],
    ['2026-02-01', '2026-03-01', '本月', 'this month'],
    ['2025-12-01', '2026-01-01', '2025年12月', 'in December 2025'],
    ['2025-01-01', '2026-01-01', '2025年', 'in 2025'],
    ['2026-01-05', '2026-01-06', '2026-01-05', 'on 2026-01-05'],
    ['2026-01-05', '2026-02-10', '2026-01-05至2026-02-09', 'from 2026-01-05 to 2026-02-09'],
    ['2026-02-01', '2026-05-01', '2026-02-01至2026-04-30', 'from 2026-02-01 to 2026-04-30'],
  ])('[%s, %s) is %s / %s', (from, to, zh, en) => {
    expect(periodWords(from, to, today)).toEqual({ zh, en });
  });

  it('says instants as they are, the end exclusive', () => {
    expect(periodWords('2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', today).en).toBe(
      'from 2026-01-01T00:00:00.000Z to 2026-01-02T00:00:00.000Z (exclusive)',
    );
  });
});

describe('headlineText', () => {
  it('is the district sentence in Chinese and English', () => {
    expect(headlineText(1234.5, { zh: '本季度', en: 'this quarter' })).toEqual({
      zh: '本季度共回收废旧电池 1,234.5 千克',
      en: '1,234.5 kg of batteries kept out of landfill this quarter',
    });
  });
});

describe('quarterOf and localDay', () => {
  it('takes the calendar of the time zone: 2026-03-31 17:00Z is already April 1 in Shanghai', () => {
    const now = new Date('2026-03-31T17:00:00Z');
    expect(localDay(now, 'Asia/Shanghai')).toBe('2026-04-01');
    expect(quarterOf(now, 'Asia/Shanghai')).toEqual({ from: '2026-04-01', to: '2026-07-01' });
    expect(quarterOf(now, 'UTC')).toEqual({ from: '2026-01-01', to: '2026-04-01' });
    expect(quarterOf(new Date('2026-12-31T00:00:00Z'), 'UTC')).toEqual({ from: '2026-10-01', to: '2027-01-01' });
  });
});

describe('depositReportCsv', () => {
  const sums = {
    deposits: 2,
    batteries: 3,
    kinds: { alkaline: 2, lithium: 1, button: 0, rechargeable: 0, other: 0 },
    kilograms: 0.075,
    depositsWithoutWeight: 1,
    pointsIssued: 5,
    pointsPending: 0,
  };
  const report: DepositReport = {
    communityId: 'c1',
    communityName: '海港 "东" 社区',
    timezone: 'Asia/Shanghai',
    from: '2026-01-31T16:00:00.000Z',
    to: '2026-02-28T16:00:00.000Z',
    groupBy: 'day',
    by: 'bin',
    rows: [{ period: '2026-02-03', deviceId: 'bin-1', deviceLabel: '3号楼', ...sums }],
    total: sums,
    rejected: [{ reason: 'too-late', deposits: 1, batteries: 4 }],
  };

  it('is UTF-8 with a BOM, CRLF, every field quoted, quotes doubled', () => {
    const csv = depositReportCsv(report);
    expect(csv.startsWith('\uFEFF"社区 community","海港 ""东"" 社区"')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines[2]!.startsWith('"日期 day","回收箱 bin","名称 label","投递次数 deposits","碱性 alkaline 节 batteries"')).toBe(true);
    expect(lines[3]).toBe('"2026-02-03","bin-1","3号楼","2","2","1","0","0","0","3","0.075","1","5","0"');
    expect(lines[4]).toBe('"合计 TOTAL","","","2","2","1","0","0","0","3","0.075","1","5","0"');
    expect(lines).toContain('"","too-late","1","4"');
    expect(lines).toContain('"合计 TOTAL","","1","4"');
  });
});
