// Table and age formatting in kubectl's style.

/** Each column's widest cell, header included (a loop: a spread of 100,000 rows would overflow the stack). */
export function columnWidths(headers: string[], rows: string[][]): number[] {
  const widths = headers.map((h) => h.length);
  for (const row of rows) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (row[i] ?? '').length);
  }
  return widths;
}

/**
 * One line of a table: every cell but the last padded to its column's width and 3 spaces. A cell
 * wider than its column (a watch keeps the widths of its first list) still gets its 3 spaces.
 */
export function tableLine(cells: string[], widths: number[]): string {
  // A loop of concatenations rather than map/join: `get` at 10k VMs prints 70k cells.
  const last = cells.length - 1;
  let line = '';
  for (let i = 0; i < last; i++) {
    const cell = cells[i]!;
    line += cell + spaces(Math.max(widths[i] ?? 0, cell.length) + 3 - cell.length);
  }
  line += last >= 0 ? cells[last] : '';
  return /\s$/.test(line) ? line.trimEnd() : line;
}

const PADDING = ' '.repeat(256);
const spaces = (n: number) => (n <= PADDING.length ? PADDING.slice(0, n) : ' '.repeat(n));

export function table(headers: string[], rows: string[][]): string {
  const widths = columnWidths(headers, rows);
  return [tableLine(headers, widths), ...rows.map((r) => tableLine(r, widths))].join('\n');
}

/** kubectl's short ages: 45s, 12m, 3h, 5d. */
export function age(since: string | undefined, now = Date.now()): string {
  if (!since) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
