// Plain-text output of the reports: aligned columns for a terminal, RFC 4180 CSV for a spreadsheet.

/** Columns padded to their widest cell, two spaces apart; the columns named in `right` right-aligned. */
export function alignedTable(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string =>
    widths.map((w, c) => (right.has(c) ? (r[c] ?? '').padStart(w) : (r[c] ?? '').padEnd(w))).join('  ').trimEnd();
  return `${all.map(line).join('\n')}\n`;
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a double quote, CR or LF; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** CSV text (RFC 4180): a header line, then the rows, each line ended by CRLF. */
export function csv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, ...rows].map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
}
