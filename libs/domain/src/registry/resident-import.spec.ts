import { type CsvRecordLike, readResidentImport } from './resident-import';

let nextLine = 1;
const rec = (...fields: string[]): CsvRecordLike => ({ line: nextLine++, fields });
const file = (...records: string[][]): CsvRecordLike[] => {
  nextLine = 1;
  return records.map((r) => rec(...r));
};

describe('readResidentImport', () => {
  it('reads Chinese headers and normalises cards', () => {
    const read = readResidentImport(
      file(['编号', '姓名', '楼栋', '户', '电话', '卡号'], ['A001', ' 张三 ', '3', '3-2-201', '138 0013 8000', '04:a1:b2:c3']),
    );
    expect(read).toEqual({
      ok: true,
      rowsTotal: 1,
      ignoredColumns: [],
      rejected: [],
      rows: [{ line: 2, ref: 'A001', name: '张三', building: '3', household: '3-2-201', phone: '138 0013 8000', cardUid: '04A1B2C3' }],
    });
  });

  it('reads English headers in any case and order, and names the columns it ignores', () => {
    const read = readResidentImport(file(['Name', 'REF', 'Remark', 'Card'], ['李四', 'B7', 'x', '']));
    expect(read).toMatchObject({
      ok: true,
      ignoredColumns: ['Remark'],
      rows: [{ line: 2, ref: 'B7', name: '李四', building: null, household: null, phone: null, cardUid: null }],
    });
  });

  it('refuses a header without the ref or name column, saying which', () => {
    const read = readResidentImport(file(['姓名', '卡号'], ['张三', '']));
    expect(read.ok).toBe(false);
    expect(!read.ok && read.message).toContain('编号/ref');
  });

  it('refuses an empty file and a file with a header only', () => {
    expect(readResidentImport([]).ok).toBe(false);
    expect(readResidentImport(file(['ref', 'name'])).ok).toBe(false);
  });

  it('refuses a header naming a column twice', () => {
    const read = readResidentImport(file(['ref', '编号', 'name'], ['1', '2', 'x']));
    expect(!read.ok && read.message).toContain('twice');
  });

  it('skips blank lines but keeps counting lines', () => {
    const read = readResidentImport(file(['ref', 'name'], [''], ['1', '张三'], ['', ' '], ['2', '李四']));
    expect(read.ok && read.rows.map((r) => [r.line, r.ref])).toEqual([
      [3, '1'],
      [5, '2'],
    ]);
    expect(read.ok && read.rowsTotal).toBe(2);
  });

  it('rejects each bad row with its line and a specific reason', () => {
    const read = readResidentImport(
      file(
        ['ref', 'name', 'phone', 'card'],
        ['1', '张三', '', '04A1B2C3'], // 2 ok
        ['', '无编号', '', ''], // 3
        ['3', '', '', ''], // 4
        ['4', '王五', '', '04A1B2'], // 5
        ['5', '赵六', '1.38E+10', ''], // 6
        ['1', '张三二', '', ''], // 7
        ['7', '孙七', '', '04:a1:b2:c3'], // 8
        ['8', '周八', '', '', 'extra'], // 9
        ['9', 'x'.repeat(101), '', ''], // 10
        ['10', '吴十', '+86 138-0013-8000', ''], // 11 ok
      ),
    );
    if (!read.ok) throw new Error(read.message);
    expect(read.rows.map((r) => r.line)).toEqual([2, 11]);
    expect(read.rejected.map((r) => [r.line, r.reason])).toEqual([
      [3, 'missing-ref'],
      [4, 'missing-name'],
      [5, 'bad-card-uid'],
      [6, 'bad-phone'],
      [7, 'duplicate-ref'],
      [8, 'duplicate-card'],
      [9, 'too-many-fields'],
      [10, 'too-long'],
    ]);
    expect(read.rejected.find((r) => r.line === 7)!.message).toContain('line 2');
    expect(read.rejected.find((r) => r.line === 8)!.message).toContain('04A1B2C3');
    expect(read.rowsTotal).toBe(10);
  });

  it('takes empty trailing fields (a spreadsheet’s trailing commas) as nothing', () => {
    const read = readResidentImport(file(['ref', 'name'], ['1', '张三', '', '']));
    expect(read.ok && read.rows).toHaveLength(1);
  });

  it('counts a ref seen first on a bad row: the later row is a duplicate too', () => {
    const read = readResidentImport(file(['ref', 'name'], ['1', ''], ['1', '张三']));
    expect(read.ok && read.rejected.map((r) => [r.line, r.reason])).toEqual([
      [2, 'missing-name'],
      [3, 'duplicate-ref'],
    ]);
  });

  it('rejects a row the parser found badly quoted', () => {
    const read = readResidentImport([
      { line: 1, fields: ['ref', 'name'] },
      { line: 2, fields: ['1', 'ab'], error: 'a closing quote must be followed by a comma' },
    ]);
    expect(read.ok && read.rejected).toEqual([
      { line: 2, ref: '1', reason: 'bad-quotes', message: 'a closing quote must be followed by a comma' },
    ]);
  });
});
