// What a figure module exports, and what one run of it returns.

/** A target on a row's value or on its ratio to the baseline. */
export interface Target {
  on: 'value' | 'ratio';
  op: '<=' | '<' | '>=';
  limit: number;
  /** Said in the table, e.g. "≤ 1.5× best raw". */
  text: string;
}

/** One measured line of a figure, from one run. */
export interface Row {
  /** Stable across runs: the runner takes the median per id. */
  id: string;
  label: string;
  value: number;
  unit: string;
  /** The raw libvirt/OVS (or plain node) figure for the same work in the same run. */
  baseline?: number;
  baselineLabel?: string;
  /** value/baseline, or baseline/value where `speedup` (bigger is better). */
  speedup?: boolean;
  target?: Target;
  /** Said once under the table, e.g. what the value includes. */
  note?: string;
}

export interface FigureOptions {
  quick: boolean;
}

export interface Figure {
  name: string;
  title: string;
  /** One run, in a process of its own (the runner's child). */
  run(opts: FigureOptions): Promise<Row[]>;
}

export function ratioOf(row: Row): number | undefined {
  if (row.baseline === undefined || row.baseline === 0) return undefined;
  return row.speedup ? row.baseline / row.value : row.value / row.baseline;
}

/** Before the JSON line of a run's rows on the child's stdout. */
export const ROWS_MARK = 'BENCH-ROWS ';
