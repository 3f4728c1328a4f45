import { isCardUid, normalizeCardUid } from './card-uid';

/**
 * The resident register as a community keeps it in a spreadsheet (issue #3):
 * one row per resident, the header naming the columns in Chinese or English.
 * Everything that can be judged from the file alone is judged here; what needs
 * the database (cards held by someone else, households in another building) is
 * judged where the rows are applied.
 */
export const IMPORT_COLUMNS = {
  ref: ['编号', '登记号', 'ref', 'externalref', 'external_ref'],
  name: ['姓名', 'name'],
  building: ['楼栋', '楼号', 'building'],
  household: ['户', '户号', '房号', 'household'],
  phone: ['电话', '手机', '手机号', 'phone'],
  card: ['卡号', 'card', 'carduid', 'card_uid', 'uid'],
} as const;
export type ImportColumn = keyof typeof IMPORT_COLUMNS;

const MAX_LENGTH: Record<Exclude<ImportColumn, 'card' | 'phone'>, number> = { ref: 64, name: 100, building: 100, household: 100 };

/** One record of a CSV file: `line` is the 1-based file line it starts on. */
export interface CsvRecordLike {
  line: number;
  fields: string[];
  /** A quoting problem the parser found in this record. */
  error?: string;
}

export interface ResidentImportRow {
  line: number;
  ref: string;
  name: string;
  building: string | null;
  household: string | null;
  phone: string | null;
  /** Normalised (upper-case hex). */
  cardUid: string | null;
}

export type ImportRejectionReason =
  | 'bad-quotes'
  | 'too-many-fields'
  | 'missing-ref'
  | 'missing-name'
  | 'too-long'
  | 'bad-card-uid'
  | 'bad-phone'
  | 'duplicate-ref'
  | 'duplicate-card'
  | 'card-already-bound'
  | 'household-in-other-building';

export interface RejectedImportRow {
  line: number;
  ref: string | null;
  reason: ImportRejectionReason;
  /** For the staff who fix the file: Chinese first, then English. */
  message: string;
}

export type ReadResidentImport =
  | { ok: true; rows: ResidentImportRow[]; rejected: RejectedImportRow[]; rowsTotal: number; ignoredColumns: string[] }
  | { ok: false; message: string };

const headerKey = (h: string) => h.trim().toLowerCase().replace(/\s+/g, '');
const COLUMN_BY_HEADER = new Map<string, ImportColumn>(
  Object.entries(IMPORT_COLUMNS).flatMap(([column, names]) => names.map((n) => [headerKey(n), column as ImportColumn] as const)),
);
const LABEL: Record<ImportColumn, string> = {
  ref: '编号/ref',
  name: '姓名/name',
  building: '楼栋/building',
  household: '户/household',
  phone: '电话/phone',
  card: '卡号/card',
};
/** Digits with spaces or dashes, an optional leading +; Excel's 1.38E+10 is not a phone number. */
const PHONE = /^\+?[0-9][0-9 -]{2,29}$/;

const isBlank = (r: CsvRecordLike) => r.fields.every((f) => f.trim() === '');

/** Reads the header and every row; blank lines are skipped. */
export function readResidentImport(records: CsvRecordLike[]): ReadResidentImport {
  const nonBlank = records.filter((r) => !isBlank(r));
  const header = nonBlank[0];
  if (!header)
    return { ok: false, message: '文件是空的 / the file is empty: the first line must name the columns (编号,姓名,楼栋,户,电话,卡号)' };
  if (header.error) return { ok: false, message: `第 ${header.line} 行（表头）${header.error}` };

  const columns = new Map<ImportColumn, number>();
  const ignoredColumns: string[] = [];
  for (const [index, raw] of header.fields.entries()) {
    const column = COLUMN_BY_HEADER.get(headerKey(raw));
    if (!column) {
      if (raw.trim() !== '') ignoredColumns.push(raw.trim());
      continue;
    }
    if (columns.has(column))
      return { ok: false, message: `表头里“${LABEL[column]}”出现了两次 / the header names the ${column} column twice` };
    columns.set(column, index);
  }
  const missing = (['ref', 'name'] as const).filter((c) => !columns.has(c));
  if (missing.length > 0) {
    return {
      ok: false,
      message:
        `表头缺少 ${missing.map((c) => `“${LABEL[c]}”`).join('、')} 列 / the header row must name the ${missing.join(' and ')} column; ` +
        `found: ${header.fields.map((f) => f.trim()).join(', ')}`,
    };
  }

  const data = nonBlank.slice(1);
  if (data.length === 0) return { ok: false, message: '文件里只有表头，没有居民 / the file has a header but no rows under it' };

  const rows: ResidentImportRow[] = [];
  const rejected: RejectedImportRow[] = [];
  const firstLineOfRef = new Map<string, number>();
  const firstLineOfCard = new Map<string, number>();
  for (const record of data) {
    const cell = (column: ImportColumn): string => {
      const index = columns.get(column);
      return index === undefined ? '' : (record.fields[index] ?? '').trim();
    };
    const ref = cell('ref');
    const reject = (reason: ImportRejectionReason, message: string) => {
      rejected.push({ line: record.line, ref: ref || null, reason, message });
    };
    // A ref seen first on a bad row still owns the ref: the later row is a duplicate either way.
    const firstRefLine = ref ? firstLineOfRef.get(ref) : undefined;
    if (ref && firstRefLine === undefined) firstLineOfRef.set(ref, record.line);

    if (record.error) {
      reject('bad-quotes', record.error);
      continue;
    }
    const extra = record.fields.slice(header.fields.length).filter((f) => f.trim() !== '').length;
    if (extra > 0) {
      reject(
        'too-many-fields',
        `这一行比表头多出 ${extra} 列：含逗号的内容要用英文双引号括起来 / this line has ${extra} more field(s) than the header; put "double quotes" around a value that contains a comma`,
      );
      continue;
    }
    if (!ref) {
      reject('missing-ref', '缺少编号：请填写“编号”列 / the register number (编号/ref) is missing');
      continue;
    }
    const name = cell('name');
    if (!name) {
      reject('missing-name', '缺少姓名：请填写“姓名”列 / the name (姓名/name) is missing');
      continue;
    }
    const tooLong = (Object.keys(MAX_LENGTH) as (keyof typeof MAX_LENGTH)[]).find((c) => Array.from(cell(c)).length > MAX_LENGTH[c]);
    if (tooLong) {
      reject(
        'too-long',
        `“${LABEL[tooLong]}”太长（最多 ${MAX_LENGTH[tooLong]} 个字） / ${tooLong} is longer than ${MAX_LENGTH[tooLong]} characters`,
      );
      continue;
    }
    const rawCard = cell('card');
    const cardUid = rawCard ? normalizeCardUid(rawCard) : null;
    if (cardUid !== null && !isCardUid(cardUid)) {
      reject(
        'bad-card-uid',
        `卡号“${rawCard}”不对：应为 8、14 或 20 位十六进制（如 04A1B2C3）/ card uid "${rawCard}" must be 4, 7 or 10 bytes of hex, e.g. 04A1B2C3`,
      );
      continue;
    }
    const phone = cell('phone');
    if (phone && !PHONE.test(phone)) {
      reject(
        'bad-phone',
        `电话“${phone}”不对：只能有数字、空格、- 和开头的 +；若被 Excel 改成了 1.38E+10 这样的形式，请把该列设为“文本” / ` +
          `phone "${phone}" may hold only digits, spaces, - and a leading +; if Excel turned it into 1.38E+10, format the column as text`,
      );
      continue;
    }
    if (firstRefLine !== undefined) {
      reject(
        'duplicate-ref',
        `编号 ${ref} 在第 ${firstRefLine} 行已出现：同一编号只能出现一次 / ref ${ref} already appears on line ${firstRefLine}`,
      );
      continue;
    }
    if (cardUid !== null) {
      const firstCardLine = firstLineOfCard.get(cardUid);
      if (firstCardLine !== undefined) {
        reject(
          'duplicate-card',
          `卡号 ${cardUid} 在第 ${firstCardLine} 行已出现：一张卡只能属于一位居民 / card ${cardUid} is already listed on line ${firstCardLine}`,
        );
        continue;
      }
      firstLineOfCard.set(cardUid, record.line);
    }
    rows.push({
      line: record.line,
      ref,
      name,
      building: cell('building') || null,
      household: cell('household') || null,
      phone: phone || null,
      cardUid,
    });
  }
  return { ok: true, rows, rejected, rowsTotal: data.length, ignoredColumns };
}

/** Rejections that need the database, with the same kind of message. */
export const importRejections = {
  cardAlreadyBound: (row: ResidentImportRow, holder: { maskedName: string; ref: string | null }): RejectedImportRow => ({
    line: row.line,
    ref: row.ref,
    reason: 'card-already-bound',
    message:
      `卡号 ${row.cardUid} 已绑定给另一位居民（${holder.maskedName}${holder.ref ? `，编号 ${holder.ref}` : ''}）：请先在那位居民处解绑 / ` +
      `card ${row.cardUid} is already bound to another resident; unbind it there first`,
  }),
  householdInOtherBuilding: (row: ResidentImportRow, building: string): RejectedImportRow => ({
    line: row.line,
    ref: row.ref,
    reason: 'household-in-other-building',
    message:
      `户 ${row.household} 已登记在楼栋 ${building}，不是 ${row.building}：请核对楼栋 / ` +
      `household ${row.household} is registered in building ${building}, not ${row.building}`,
  }),
};
