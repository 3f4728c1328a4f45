import { parseDeviceCsv } from './device-csv';

describe('parseDeviceCsv', () => {
  it('reads ids, kinds and labels under English or Chinese headers; a blank id is left to the gateway', () => {
    const { rows, problems } = parseDeviceCsv('编号,类型,名称\r\nbin-01,bin,3号楼东门\r\n,terminal,活动室\r\n');
    expect(problems).toEqual([]);
    expect(rows).toEqual([
      { line: 2, id: 'bin-01', kind: 'bin', label: '3号楼东门' },
      { line: 3, id: null, kind: 'terminal', label: '活动室' },
    ]);
  });

  it('reports every broken row by its line', () => {
    const { problems } = parseDeviceCsv('id,kind,label\nbin-01,bin,a\nbin/02,bin,b\nbin-03,kiosk,c\nbin-01,bin,d\n');
    expect(problems).toEqual([
      { line: 3, message: 'id "bin/02" must be 1-64 letters, digits, - or _' },
      { line: 4, message: 'kind "kiosk" must be bin, terminal or counter' },
      { line: 5, message: 'id bin-01 is already on line 2' },
    ]);
  });

  it('refuses a file without a kind column or without rows', () => {
    expect(parseDeviceCsv('id,label\nbin-1,x\n').problems[0]!.message).toContain('kind');
    expect(parseDeviceCsv('id,kind\n').problems).toEqual([{ line: 1, message: 'the file has a header but no devices' }]);
  });
});
