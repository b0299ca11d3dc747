import { visibleLength } from '../io.js';

export interface TableOptions {
  /**
   * Spaces after each column but the last. kubectl's printers use 3 (tabwriter padding 3, min width 6);
   * clusterctl's tree uses 2.
   */
  padding?: number;
  minWidth?: number;
  /** Widths to keep at least (a watch keeps the first table's widths, so its later rows stay aligned). */
  widths?: readonly number[];
}

/** The column widths a table needs, padding included, as Go's tabwriter computes them. */
export function columnWidths(rows: readonly (readonly string[])[], options: TableOptions = {}): number[] {
  const padding = options.padding ?? 3;
  const minWidth = options.minWidth ?? 6;
  const widths: number[] = [...(options.widths ?? [])];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, minWidth, visibleLength(cell) + padding);
    });
  return widths;
}

/**
 * Rows as kubectl prints them: cells left-aligned and padded to the widest of their column, the last
 * column unpadded, no trailing spaces. Cells may carry colour codes; widths count visible characters.
 */
export function renderRows(rows: readonly (readonly string[])[], widths: readonly number[], padding = 3): string {
  return rows
    .map((row) =>
      row
        // A cell wider than its column (a watch row) still gets the padding, as tabwriter would give it.
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(Math.max(padding, (widths[i] ?? 0) - visibleLength(cell)))))
        .join('')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const all = [header, ...rows];
  return renderRows(all, columnWidths(all, options), options.padding ?? 3);
}
