/**
 * A CSV reader after RFC 4180, lenient where spreadsheets are: a leading
 * UTF-8 BOM is dropped, records end with CRLF, LF or a lone CR, and a quote in
 * the middle of an unquoted field is kept as text. Each record carries the
 * 1-based line it starts on, so staff can find a bad row in the file even when
 * quoted fields hold line breaks. No npm CSV parser is installed; this one is
 * small enough to read and is tested in csv.spec.ts.
 */
export interface CsvRecord {
  /** The file line (1-based) where the record starts. */
  line: number;
  fields: string[];
  /** A quoting problem in this record; the other records are still read. */
  error?: string;
}

/** A quote opened on `line` is never closed: the rest of the file would be one field. */
export class CsvUnclosedQuoteError extends Error {
  constructor(readonly line: number) {
    super(`第 ${line} 行：这里开始的英文双引号没有闭合 / line ${line}: a double quote opened on this line is never closed`);
    this.name = 'CsvUnclosedQuoteError';
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
const BOM = 0xfeff;

const TEXT_AFTER_QUOTE =
  '引号用法不对：右引号后面必须紧跟逗号或换行；内容里的引号要写成两个（""） / ' +
  'a closing quote must be followed by a comma or the end of the line; write a quote inside a quoted value as ""';

export function parseCsv(input: string): CsvRecord[] {
  const text = input.charCodeAt(0) === BOM ? input.slice(1) : input;
  const n = text.length;
  const records: CsvRecord[] = [];
  if (n === 0) return records;
  const endsField = (c: number) => c === COMMA || c === CR || c === LF;

  let line = 1;
  let recordLine = 1;
  let fields: string[] = [];
  let error: string | undefined;
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      const openedOn = line;
      let value = '';
      let chunk = i + 1;
      let j = chunk;
      for (;;) {
        if (j >= n) throw new CsvUnclosedQuoteError(openedOn);
        const c = text.charCodeAt(j);
        if (c === QUOTE) {
          if (text.charCodeAt(j + 1) === QUOTE) {
            value += text.slice(chunk, j + 1);
            j += 2;
            chunk = j;
            continue;
          }
          value += text.slice(chunk, j);
          j++;
          break;
        }
        // A CRLF inside quotes is one line break: count it at the LF.
        if (c === LF || (c === CR && text.charCodeAt(j + 1) !== LF)) line++;
        j++;
      }
      i = j;
      if (i < n && !endsField(text.charCodeAt(i))) {
        error ??= TEXT_AFTER_QUOTE;
        let k = i;
        while (k < n && !endsField(text.charCodeAt(k))) k++;
        value += text.slice(i, k);
        i = k;
      }
      fields.push(value);
    } else {
      let k = i;
      while (k < n && !endsField(text.charCodeAt(k))) k++;
      fields.push(text.slice(i, k));
      i = k;
    }

    if (i >= n) {
      records.push(error ? { line: recordLine, fields, error } : { line: recordLine, fields });
      return records;
    }
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      i++;
      continue;
    }
    i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
    line++;
    records.push(error ? { line: recordLine, fields, error } : { line: recordLine, fields });
    if (i >= n) return records; // a final line break ends the last record, it does not start one
    fields = [];
    error = undefined;
    recordLine = line;
  }
}

/**
 * The bytes of an uploaded file as text: UTF-8 (with or without BOM), or, if
 * they are not valid UTF-8, GB18030, which is what Excel on a Chinese Windows
 * writes for "CSV (逗号分隔)" (GBK is a subset of it).
 */
export function decodeCsvBytes(bytes: Uint8Array): { text: string; encoding: 'utf-8' | 'gb18030' } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('gb18030').decode(bytes), encoding: 'gb18030' };
  }
}
