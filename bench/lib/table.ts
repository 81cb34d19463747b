/**
 * Plain-text tables for the bench report. Pure: rows in, lines out, so the layout is tested
 * without running a benchmark.
 */

export type Cell = string | number | null | undefined;
export type Align = 'left' | 'right';

export interface Column {
  header: string;
  /** Numbers default to right, everything else to left. */
  align?: Align;
}

/** A cell as text: null/undefined as "–", numbers as given (format them before if needed). */
export function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return '–';
  return typeof cell === 'number' ? String(cell) : cell;
}

/**
 * Renders rows under their headers with columns padded to the widest cell and a dashed rule
 * under the header. A row shorter than the header is padded with empty cells; a longer one is an
 * error (it would silently lose data).
 */
export function formatTable(columns: readonly Column[], rows: readonly (readonly Cell[])[]): string[] {
  if (columns.length === 0) throw new Error('formatTable: at least one column is needed');
  for (const [i, row] of rows.entries()) {
    if (row.length > columns.length) {
      throw new Error(`formatTable: row ${i} has ${row.length} cells for ${columns.length} columns`);
    }
  }
  const texts = rows.map((row) => columns.map((_, c) => (c < row.length ? cellText(row[c]) : '')));
  const widths = columns.map((col, c) => Math.max(col.header.length, ...texts.map((t) => (t[c] ?? '').length)));
  const aligns = columns.map((col, c) => col.align ?? (rows.some((r) => typeof r[c] === 'number') ? 'right' : 'left'));
  const pad = (text: string, c: number): string => {
    const width = widths[c] ?? 0;
    return aligns[c] === 'right' ? text.padStart(width) : text.padEnd(width);
  };
  const line = (cells: readonly string[]): string => cells.map((t, c) => pad(t, c)).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...texts.map(line)];
}

/** Fixed decimals, with thousands separators for readability ("12,345.6"). */
export function fmt(value: number | null | undefined, decimals = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Dollars with enough decimals to show sub-cent amounts ("$0.0042"). */
export function usd(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const decimals = abs === 0 || abs >= 1 ? 2 : abs >= 0.01 ? 3 : 4;
  return `$${value.toFixed(decimals)}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}
