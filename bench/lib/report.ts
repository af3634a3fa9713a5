// Runs of a figure → median, min and max per row, the ratio to its baseline, the verdict; and
// the tables (terminal and bench/RESULTS.md).
import { ratioOf, type Row, type Target } from './figure.js';
import { spread } from './stats.js';

export interface Summary {
  figure: string;
  title: string;
  id: string;
  label: string;
  unit: string;
  runs: number;
  value: { median: number; min: number; max: number };
  baseline?: { median: number; min: number; max: number };
  baselineLabel?: string;
  ratio?: { median: number; min: number; max: number };
  speedup?: boolean;
  target?: Target;
  verdict: 'PASS' | 'MISS' | '—';
  notes: string[];
}

export function summarize(figure: string, title: string, runs: Row[][]): Summary[] {
  const ids = [...new Set(runs.flat().map((r) => r.id))];
  return ids.map((id) => {
    const rows = runs.flatMap((run) => run.filter((r) => r.id === id));
    const first = rows[0]!;
    const baselines = rows.map((r) => r.baseline).filter((b): b is number => b !== undefined);
    const ratios = rows.map(ratioOf).filter((r): r is number => r !== undefined);
    const s: Summary = {
      figure, title, id, label: first.label, unit: first.unit, runs: rows.length,
      value: spread(rows.map((r) => r.value)),
      ...(baselines.length ? { baseline: spread(baselines), baselineLabel: rows[rows.length - 1]!.baselineLabel } : {}),
      ...(ratios.length ? { ratio: spread(ratios) } : {}),
      ...(first.speedup ? { speedup: true } : {}),
      ...(first.target ? { target: first.target } : {}),
      verdict: '—',
      notes: [...new Set(rows.map((r) => r.note).filter((n): n is string => !!n))],
    };
    s.verdict = verdict(s);
    return s;
  });
}

function verdict(s: Summary): Summary['verdict'] {
  const t = s.target;
  if (!t) return '—';
  const x = t.on === 'value' ? s.value.median : s.ratio?.median;
  if (x === undefined || Number.isNaN(x)) return 'MISS';
  const met = t.op === '<=' ? x <= t.limit : t.op === '<' ? x < t.limit : x >= t.limit;
  return met ? 'PASS' : 'MISS';
}

/** A number in its unit, seconds for long times: [text, unit]. */
const scaled = (x: number, unit: string, asSeconds: boolean): [string, string] => {
  if (unit === 'ms' && asSeconds) return [(x / 1000).toFixed(1), 's'];
  const digits = Math.abs(x) >= 100 || Number.isInteger(x) ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return [x.toFixed(digits), unit];
};
const range = (r: { median: number; min: number; max: number }, unit: string): string => {
  const s = r.median >= 10_000;
  const [median, u] = scaled(r.median, unit, s);
  return `${median}${u ? ` ${u}` : ''} (${scaled(r.min, unit, s)[0]}–${scaled(r.max, unit, s)[0]})`;
};
const ratioText = (s: Summary): string =>
  s.ratio ? `${s.ratio.median.toFixed(2)}×${s.speedup ? ' faster' : ''} (${s.ratio.min.toFixed(2)}–${s.ratio.max.toFixed(2)})` : '—';

export function markdownTable(summaries: Summary[]): string {
  const lines = ['| Figure | wimaxvm: median (min–max) | Baseline, same run: median (min–max) | Ratio: median (min–max) | Target | Verdict |', '| --- | --- | --- | --- | --- | --- |'];
  for (const s of summaries) {
    const base = s.baseline ? `${range(s.baseline, s.unit)}: ${s.baselineLabel ?? ''}` : '—';
    lines.push(`| ${s.label} | ${range(s.value, s.unit)}, ${s.runs} run${s.runs === 1 ? '' : 's'} | ${base} | ${ratioText(s)} | ${s.target?.text ?? '—'} | **${s.verdict}** |`);
  }
  return lines.join('\n');
}

export function notes(summaries: Summary[]): string[] {
  return summaries.flatMap((s) => s.notes.map((n) => `${s.label}: ${n}`));
}
