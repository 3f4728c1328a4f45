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

  it('marks a record with text after a closing quote, and goes on reading the next ones', () => {
    const records = parseCsv('"ab"c,d\n1,2');
    expect(records[0]).toMatchObject({ line: 1, fields: ['abc', 'd'] });
    expect(records[0]!.error).toContain('closing quote');
    expect(records[1]).toEqual({ line: 2, fields: ['1', '2'] });
  });

  it('fails on a quote that is never closed, naming the line it opened on', () => {
    expect(() => parseCsv('a,b\n1,2\n3,"unclosed\n4,5\n')).toThrow(CsvUnclosedQuoteError);
    try {
      parseCsv('a,b\n1,2\n3,"unclosed\n4,5\n');
    } catch (err) {
      expect((err as CsvUnclosedQuoteError).line).toBe(3);
      expect((err as Error).message).toContain('line 3');
    }
  });

  it('reads a large file quickly', () => {
    const row = '00001,"张三, 李四",3,3-2-201,13800138000,04A1B2C3\r\n';
    const text = 'ref,name,building,household,phone,card\r\n' + row.repeat(100_000);
    const started = Date.now();
    const records = parseCsv(text);
    expect(records).toHaveLength(100_001);
    expect(records[100_000]).toEqual({ line: 100_001, fields: ['00001', '张三, 李四', '3', '3-2-201', '13800138000', '04A1B2C3'] });
    expect(Date.now() - started).toBeLessThan(3_000);
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
