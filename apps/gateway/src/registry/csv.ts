import { CsvError, parse, type Options } from 'csv-parse/sync';

/**
 * Reads an uploaded CSV file with csv-parse, lenient where spreadsheets are: a
 * leading UTF-8 BOM is dropped, records end with CRLF, LF or a lone CR (mixed
 * in one file too), rows may have more or fewer fields than the header, and a
 * quote in the middle of an unquoted field is kept as text. Each record carries
 * the 1-based line it starts on, so staff can find a bad row in the file even
 * when quoted fields hold line breaks.
 */
export interface CsvRecord {
  /** The file line (1-based) where the record starts. */
  line: number;
  fields: string[];
  /** A quoting problem in this record; the other records are still read. */
  error?: string;
}

/** A quote in the record starting on `line` is never closed: the rest of the file would be one field. */
export class CsvUnclosedQuoteError extends Error {
  constructor(readonly line: number) {
    super(
      `第 ${line} 行：从这一行开始的内容里有英文双引号没有闭合 / line ${line}: a double quote in the row starting on this line is never closed`,
    );
    this.name = 'CsvUnclosedQuoteError';
  }
}

const TEXT_AFTER_QUOTE =
  '引号用法不对：右引号后面必须紧跟逗号或换行；内容里的引号要写成两个（""） / ' +
  'a closing quote must be followed by a comma or the end of the line; write a quote inside a quoted value as ""';

const RECORD_DELIMITERS = ['\r\n', '\n', '\r'];

const READ: Options = {
  bom: true,
  // Listed rather than discovered: discovery keeps the first kind it meets and reads the others as text.
  record_delimiter: RECORD_DELIMITERS,
  // Blank lines stay records (one empty field) so every record's line can be counted; the caller skips them.
  skip_empty_lines: false,
  // The caller judges rows with more or fewer fields than the header.
  relax_column_count: true,
  // 5"号楼 is text. It also lets "ab"c through as the text "ab"c, which hasTextAfterClosingQuote then catches.
  relax_quotes: true,
  // Each record's source text, to count its line breaks: info.lines gives the line a record ends on, and counts a
  // CRLF inside quotes as two.
  raw: true,
};

/** With `raw: true` csv-parse returns these, though its types still say string[][]. */
interface RawRecord {
  record: string[];
  raw: string;
}

const lineBreaksIn = (text: string) => text.match(/\r\n|\r|\n/g)?.length ?? 0;

/**
 * Whether a record (its source text) has a closing quote followed by something other than a comma or the line's end,
 * which relax_quotes accepts silently: read strictly, csv-parse reports it as CSV_INVALID_CLOSING_QUOTE.
 */
function hasTextAfterClosingQuote(raw: string): boolean {
  let found = false;
  parse(raw, {
    record_delimiter: RECORD_DELIMITERS,
    relax_column_count: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      if (err?.code === 'CSV_INVALID_CLOSING_QUOTE') found = true;
      return undefined;
    },
  });
  return found;
}

export function parseCsv(input: string): CsvRecord[] {
  let rows: RawRecord[];
  try {
    rows = parse(input, READ) as unknown as RawRecord[];
  } catch (err) {
    if (err instanceof CsvError && err.code === 'CSV_QUOTE_NOT_CLOSED' && typeof err.raw === 'string') {
      // err.raw is the unfinished record: everything from its first character to the end of the file.
      throw new CsvUnclosedQuoteError(1 + lineBreaksIn(input.slice(0, input.length - err.raw.length)));
    }
    throw err;
  }
  let line = 1;
  return rows.map(({ record: fields, raw }) => {
    const record: CsvRecord = { line, fields };
    // A field that relax_quotes let through after a closing quote starts with the opening quote.
    if (fields.some((f) => f.startsWith('"')) && hasTextAfterClosingQuote(raw)) record.error = TEXT_AFTER_QUOTE;
    line += lineBreaksIn(raw);
    return record;
  });
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
