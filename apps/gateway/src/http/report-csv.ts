/** A CSV field, always quoted (Excel then never guesses a number or a date out of an id). */
export function csvField(value: string | number | null | undefined): string {
  return `"${String(value ?? '').replace(/"/g, '""')}"`;
}

/** A spreadsheet for Excel: UTF-8 with a BOM (Excel reads Chinese right), CRLF line ends, every field quoted. */
export function csvText(rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  return `\uFEFF${rows.map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}
