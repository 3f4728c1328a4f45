import { DEVICE_ID_PATTERN } from '../../../../libs/protocol/src';
import { CsvUnclosedQuoteError, parseCsv } from '../registry/csv';

export const DEVICE_KINDS = ['bin', 'terminal', 'counter'] as const;
export type CsvDeviceKind = (typeof DEVICE_KINDS)[number];

export interface DeviceCsvRow {
  line: number;
  id: string | null;
  kind: CsvDeviceKind;
  label: string | null;
}

export interface DeviceCsvProblem {
  line: number;
  message: string;
}

/** Headers staff may use, Chinese or English. */
const COLUMNS: Record<string, 'id' | 'kind' | 'label'> = {
  id: 'id',
  编号: 'id',
  kind: 'kind',
  类型: 'kind',
  label: 'label',
  名称: 'label',
  位置: 'label',
};

export const DEVICE_CSV_MAX_ROWS = 2000;

/**
 * Reads a device list (columns id/编号, kind/类型, label/名称): every row is
 * checked, and every broken one reported by its line, before anything is
 * registered. A blank id lets the gateway pick one.
 */
export function parseDeviceCsv(text: string): { rows: DeviceCsvRow[]; problems: DeviceCsvProblem[] } {
  let records;
  try {
    records = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvUnclosedQuoteError) return { rows: [], problems: [{ line: err.line, message: err.message }] };
    throw err;
  }
  const nonBlank = records.filter((r) => r.fields.some((f) => f.trim() !== ''));
  const header = nonBlank.shift();
  if (!header) return { rows: [], problems: [{ line: 1, message: 'the file is empty: it needs a header line (id,kind,label) and rows' }] };
  const columns = header.fields.map((f) => COLUMNS[f.trim().toLowerCase()] ?? COLUMNS[f.trim()]);
  if (!columns.includes('kind')) {
    return { rows: [], problems: [{ line: header.line, message: 'the header needs a kind (类型) column; id and label are optional' }] };
  }
  const problems: DeviceCsvProblem[] = [];
  const rows: DeviceCsvRow[] = [];
  const seen = new Map<string, number>();
  if (nonBlank.length > DEVICE_CSV_MAX_ROWS) {
    return { rows: [], problems: [{ line: header.line, message: `at most ${DEVICE_CSV_MAX_ROWS} devices per file; split it` }] };
  }
  for (const record of nonBlank) {
    if (record.error) {
      problems.push({ line: record.line, message: record.error });
      continue;
    }
    const value = (name: 'id' | 'kind' | 'label') => {
      const i = columns.indexOf(name);
      return i < 0 ? '' : (record.fields[i] ?? '').trim();
    };
    const id = value('id');
    const kind = value('kind');
    const label = value('label');
    const rowProblems: string[] = [];
    if (id !== '' && !DEVICE_ID_PATTERN.test(id)) rowProblems.push(`id ${JSON.stringify(id)} must be 1-64 letters, digits, - or _`);
    if (id !== '' && seen.has(id)) rowProblems.push(`id ${id} is already on line ${seen.get(id)}`);
    if (!(DEVICE_KINDS as readonly string[]).includes(kind))
      rowProblems.push(`kind ${JSON.stringify(kind)} must be bin, terminal or counter`);
    if (label.length > 100) rowProblems.push('label is longer than 100 characters');
    if (rowProblems.length > 0) {
      problems.push({ line: record.line, message: rowProblems.join('; ') });
      continue;
    }
    if (id !== '') seen.set(id, record.line);
    rows.push({ line: record.line, id: id === '' ? null : id, kind: kind as CsvDeviceKind, label: label === '' ? null : label });
  }
  if (rows.length === 0 && problems.length === 0) problems.push({ line: header.line, message: 'the file has a header but no devices' });
  return { rows, problems };
}
