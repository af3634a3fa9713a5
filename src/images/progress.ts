// Import progress for people: on a terminal one bar redrawn in place (bytes, rate, ETA); in a
// log or a pipe plain lines, one every few seconds or every tenth of the way, never a flood.
// The clock is passed in, so the pacing is tested without waiting.
import { formatBytes } from '../traffic/format.js';

export interface ProgressFigures {
  done: number;
  total: number;
  elapsedMs: number;
}

/** "4s", "2m05s", "1h02m"; "?" before a rate is known. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function figures(p: ProgressFigures): { percent: number; rate: number | undefined; eta: number | undefined } {
  const percent = p.total > 0 ? Math.min(100, Math.floor((p.done / p.total) * 100)) : 100;
  const rate = p.elapsedMs > 0 ? p.done / (p.elapsedMs / 1000) : undefined;
  const eta = rate ? (p.total - p.done) / rate : undefined;
  return { percent, rate, eta };
}

/** "debian.qcow2  45% [=========>           ] 120.0MiB/256.0MiB  35.2MiB/s  ETA 4s", at most `columns` wide. */
export function barLine(label: string, p: ProgressFigures, columns: number): string {
  const { percent, rate, eta } = figures(p);
  const tail = ` ${formatBytes(p.done)}/${formatBytes(p.total)}  ${rate === undefined ? '-' : formatBytes(rate) + '/s'}  ETA ${p.done >= p.total ? '0s' : formatEta(eta)}`;
  const head = `${label} ${String(percent).padStart(3)}% `;
  const width = Math.max(10, Math.min(40, columns - head.length - tail.length - 3));
  const filled = Math.round((percent / 100) * width);
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled ? (percent >= 100 ? '=' : '>') : '') + ' '.repeat(width - filled);
  return `${head}[${bar}]${tail}`.slice(0, Math.max(columns - 1, 20));
}

/** "debian.qcow2: 45% (120.0MiB of 256.0MiB, 35.2MiB/s, ETA 4s)" */
export function plainLine(label: string, p: ProgressFigures): string {
  const { percent, rate, eta } = figures(p);
  const speed = rate === undefined ? '' : `, ${formatBytes(rate)}/s`;
  return `${label}: ${percent}% (${formatBytes(p.done)} of ${formatBytes(p.total)}${speed}${p.done < p.total ? `, ETA ${formatEta(eta)}` : ''})`;
}

export interface ProgressOptions {
  label: string;
  total: number;
  /** Where the text goes (stderr, so that stdout keeps only the result). */
  write: (text: string) => void;
  /** A terminal of this many columns, or undefined for plain lines. */
  columns: number | undefined;
  now?: () => number;
  /** Plain lines: at least this often while bytes move (default 5 s)... */
  plainEveryMs?: number;
  /** ...and at each step of this many percent (default 10). */
  plainEveryPercent?: number;
}

/** Takes byte counts as they come and writes the bar or the lines at a human pace. */
export class Progress {
  private readonly started: number;
  private readonly now: () => number;
  private lastAt: number;
  private lastStep = 0;
  private drawn = false;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? Date.now;
    this.started = this.now();
    this.lastAt = this.started;
  }

  update(done: number): void {
    const at = this.now();
    const p = { done, total: this.opts.total, elapsedMs: at - this.started };
    if (this.opts.columns !== undefined) {
      // Ten redraws a second is smooth enough; more only costs the terminal.
      if (this.drawn && at - this.lastAt < 100) return;
      this.lastAt = at;
      this.drawn = true;
      this.opts.write(`\r${barLine(this.opts.label, p, this.opts.columns)}\x1b[K`);
      return;
    }
    const every = this.opts.plainEveryPercent ?? 10;
    const step = this.opts.total > 0 ? Math.floor((done / this.opts.total) * 100 / every) : 0;
    if (done >= this.opts.total) return; // finish() says 100 %
    if (step > this.lastStep || at - this.lastAt >= (this.opts.plainEveryMs ?? 5000)) {
      this.lastStep = Math.max(step, this.lastStep);
      this.lastAt = at;
      this.opts.write(plainLine(this.opts.label, p) + '\n');
    }
  }

  /** The last figures, once: the full bar and a newline, or the 100 % line. */
  finish(done: number): void {
    const p = { done, total: this.opts.total, elapsedMs: this.now() - this.started };
    if (this.opts.columns !== undefined) this.opts.write(`\r${barLine(this.opts.label, p, this.opts.columns)}\x1b[K\n`);
    else this.opts.write(plainLine(this.opts.label, p) + '\n');
  }

  /** Leaves the terminal's line clean after a failure. */
  abandon(): void {
    if (this.opts.columns !== undefined && this.drawn) this.opts.write('\n');
  }
}
