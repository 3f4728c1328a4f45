import { CsvUnclosedQuoteError, decodeCsvBytes, parseCsv } from './csv';

const fieldsOf = (text: string) => parseCsv(text).map((r) => r.fields);

describe('parseCsv', () => {
  it('reads LF and CRLF records alike, with their line numbers', () => {
    const lf = parseCsv('a,b\n1,2\n3,4\n');
    const crlf = parseCsv('a,b\r\n1,2\r\n3,4\r\n');
    expect(lf).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
      { line: 3, fields: ['3', '4'] },
    ]);
    expect(crlf).toEqual(lf);
  });

  it('accepts a last record without a line break, and a lone CR as a line break', () => {
    expect(fieldsOf('a,b\n1,2')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(parseCsv('a\r1\r2')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 2, fields: ['1'] },
      { line: 3, fields: ['2'] },
    ]);
  });

  it('drops a UTF-8 byte order mark and keeps Chinese text whole', () => {
    expect(fieldsOf('\uFEFF编号,姓名\n001,张三')).toEqual([
      ['编号', '姓名'],
      ['001', '张三'],
    ]);
  });

  it('keeps a BOM that is not at the start (it is text then)', () => {
    expect(fieldsOf('a\n\uFEFFb')).toEqual([['a'], ['\uFEFFb']]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    const records = parseCsv('ref,name,note\r\n1,"王, 小明","他说""你好"""\r\n2,"李\r\n四","x\ny"\r\n3,赵六,z\r\n');
    expect(records).toEqual([
      { line: 1, fields: ['ref', 'name', 'note'] },
      { line: 2, fields: ['1', '王, 小明', '他说"你好"'] },
      { line: 3, fields: ['2', '李\r\n四', 'x\ny'] },
      // record 2 holds two line breaks, so it spans lines 3 to 5 and the next starts on line 6
      { line: 6, fields: ['3', '赵六', 'z'] },
    ]);
  });

  it('keeps empty fields, leading and trailing', () => {
    expect(fieldsOf(',a,,\n""')).toEqual([['', 'a', '', ''], ['']]);
  });

  it('gives a blank line as one empty field and does not invent a record after the final line break', () => {
    expect(parseCsv('a\n\nb\n')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 2, fields: [''] },
      { line: 3, fields: ['b'] },
    ]);
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('\uFEFF')).toEqual([]);
  });

  it('keeps a quote inside an unquoted field as text', () => {
    expect(fieldsOf('5"号楼,a')).toEqual([['5"号楼', 'a']]);
  });

  it('marks a record with text after a closing quote, naming its line, and goes on reading the next ones', () => {
    const records = parseCsv('ref,name\r\n1,"李\r\n四"\r\n"ab"c,d\r\n2,"王"小明\r\n3,2');
    expect(records[0]).toEqual({ line: 1, fields: ['ref', 'name'] });
    expect(records[1]).toEqual({ line: 2, fields: ['1', '李\r\n四'] });
    // The bad field is kept as written, quotes included; the record is marked, not dropped.
    expect(records[2]).toMatchObject({ line: 4, fields: ['"ab"c', 'd'] });
    expect(records[2]!.error).toContain('closing quote');
    expect(records[3]).toMatchObject({ line: 5, fields: ['2', '"王"小明'] });
    expect(records[3]!.error).toContain('closing quote');
    expect(records[4]).toEqual({ line: 6, fields: ['3', '2'] });
  });

  it('does not mark a quoted value that starts with a doubled quote, nor a quote inside an unquoted field', () => {
    expect(parseCsv('"""引号"" 里",5"号楼\n')).toEqual([{ line: 1, fields: ['"引号" 里', '5"号楼'] }]);
    const both = parseCsv('5"号楼,"ab" ,x');
    expect(both[0]).toMatchObject({ line: 1, fields: ['5"号楼', '"ab" ', 'x'] });
    expect(both[0]!.error).toContain('closing quote');
  });

  it('reads a file mixing CRLF, LF and lone CR line breaks', () => {
    expect(parseCsv('a,b\r\n1,2\n3,4\r5,6')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
      { line: 3, fields: ['3', '4'] },
      { line: 4, fields: ['5', '6'] },
    ]);
  });

  it('fails on a quote that is never closed, naming the line it opened on', () => {
    expect(() => parseCsv('a,b\n1,2\n3,"unclosed\n4,5\n')).toThrow(CsvUnclosedQuoteError);
    try {
      parseCsv('a,b\n1,2\n3,"unclosed\n4,5\n');
    } catch (err) {
      expect((err as CsvUnclosedQuoteError).line).toBe(3);
      expect((err as Error).message).toContain('line 3');
    }
    expect.assertions(3);
  });

  it('counts the lines of earlier quoted line breaks, the BOM and CRLF when naming the unclosed quote', () => {
    const text = '\uFEFF编号,姓名\r\n1,"张\r\n三"\r\n\r\n2,"李四\r\n3,王五\r\n';
    expect(() => parseCsv(text)).toThrow(expect.objectContaining({ name: 'CsvUnclosedQuoteError', line: 5 }));
    expect(() => parseCsv(text)).toThrow('第 5 行');
    expect(() => parseCsv('"a')).toThrow(expect.objectContaining({ line: 1 }));
  });

  it('reads a large file to its last line, numbering every row', () => {
    const row = '00001,"张三, 李四",3,3-2-201,13800138000,04A1B2C3\r\n';
    const text = 'ref,name,building,household,phone,card\r\n' + row.repeat(100_000);
    const records = parseCsv(text);
    expect(records).toHaveLength(100_001);
    expect(records[100_000]).toEqual({ line: 100_001, fields: ['00001', '张三, 李四', '3', '3-2-201', '13800138000', '04A1B2C3'] });
  });
});

describe('decodeCsvBytes', () => {
  it('reads UTF-8 with and without a BOM', () => {
    const plain = Buffer.from('编号,姓名\n1,张三', 'utf8');
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), plain]);
    expect(decodeCsvBytes(plain)).toEqual({ text: '编号,姓名\n1,张三', encoding: 'utf-8' });
    expect(parseCsv(decodeCsvBytes(withBom).text)[0]!.fields).toEqual(['编号', '姓名']);
  });

  it('falls back to GB18030 (Excel on Chinese Windows) when the bytes are not UTF-8', () => {
    // 编号,姓名 / 1,张三 in GBK
    const gbk = Buffer.from([0xb1, 0xe0, 0xba, 0xc5, 0x2c, 0xd0, 0xd5, 0xc3, 0xfb, 0x0a, 0x31, 0x2c, 0xd5, 0xc5, 0xc8, 0xfd]);
    expect(decodeCsvBytes(gbk)).toEqual({ text: '编号,姓名\n1,张三', encoding: 'gb18030' });
  });
});
