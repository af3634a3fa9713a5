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
  return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(Math.max(widths[i] ?? 0, c.length) + 3))).join('').trimEnd();
}

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
