// The bench suite (issue 12): every figure, each run in a fresh process, as the median of
// several runs with min and max, as a ratio to the raw libvirt/OVS calls (or plain node) for the
// same work in the same run, with its target and a plain PASS or MISS.
//
//   npm run bench                       every figure, 3 runs each
//   npm run bench -- --quick            a laptop-sized variant: smaller figures, 1 run each
//   npm run bench -- --only converge    one figure (or several: --only converge,cli)
//   npm run bench -- --runs 5           more runs
//   npm run bench -- --write            also rewrite bench/RESULTS.md (the one tracked output)
//   node dist/bench/run.js --combine bench/out/A.json,bench/out/B.json [--write]
//                                       one report from runs made separately (e.g. side by side)
//
// An ordinary run writes only to bench/out/ (git-ignored): the raw runs as JSON and the report.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src/package-root.js';
import { FIGURES } from './figures/index.js';
import { ROWS_MARK, type Row } from './lib/figure.js';
import { markdownTable, notes, summarize, type Summary } from './lib/report.js';


const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, runs: { type: 'string' }, write: { type: 'boolean' }, combine: { type: 'string' } } });
const quick = values.quick ?? false;
const runs = Number(values.runs ?? (quick ? 1 : 3));
const only = values.only?.split(',');
const unknown = only?.filter((n) => !FIGURES.some((f) => f.name === n)) ?? [];
if (unknown.length) {
  console.error(`no figure ${unknown.join(', ')}; figures: ${FIGURES.map((f) => f.name).join(', ')}`);
  process.exit(2);
}
const chosen = FIGURES.filter((f) => !only || only.includes(f.name));

const git = (...args: string[]): string => {
  try {
    return execFileSync('git', args, { cwd: PACKAGE_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
};
const machine = {
  date: new Date().toISOString(),
  commit: git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? ' (with uncommitted changes)' : ''),
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
  loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))),
  node: process.version,
  mode: quick ? 'quick' : 'full',
  runs,
};

/** One run of a figure in a child process: its rows, its progress passed through. */
function runOnce(name: string): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(PACKAGE_ROOT, 'dist', 'bench', 'run-one.js'), name, ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => {
      out += String(c);
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith(ROWS_MARK)) resolve(JSON.parse(line.slice(ROWS_MARK.length)) as Row[]);
        else process.stderr.write(`  [${name}] ${line}\n`);
      }
    });
    child.on('close', (code) => reject(new Error(`figure ${name} exited ${code} without results`)));
  });
}

const summaries: Summary[] = [];
const raw: Record<string, Row[][]> = {};
const failures: string[] = [];
const outDir = join(PACKAGE_ROOT, 'bench', 'out');
mkdirSync(outDir, { recursive: true });
const stamp = machine.date.replace(/[:.]/g, '-');

type Machine = typeof machine;
interface Saved { machine: Machine; runs: Record<string, Row[][]>; summaries: Summary[]; failures: string[] }

const machineLine = (m: Machine): string =>
  `- ${m.date}, commit ${m.commit}: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB memory, load average at start ${m.loadAverageAtStart.join(' / ')} (1/5/15 min), Node ${m.node}; ${m.mode}, ${m.runs} run(s) a figure`;

function report(sources: Saved[], pending: string[]): string {
  const all = FIGURES.flatMap((f) => sources.flatMap((src) => src.summaries.filter((s) => s.figure === f.name)));
  const failed = sources.flatMap((src) => src.failures);
  const missed = all.filter((s) => s.verdict === 'MISS');
  return [
    '# wimaxvm bench results',
    '',
    `Written by \`npm run bench\` (bench/run.ts). Every run of a figure is a fresh process; each figure is the median of its runs (the count is in the wimaxvm column), with min and max; ratios are taken per run against the baseline measured in the same run.`,
    '',
    sources.length > 1 ? 'Made of these bench runs (run side by side to fit the time):' : 'Run:',
    ...sources.map((src) => machineLine(src.machine)),
    '',
    markdownTable(all),
    '',
    missed.length ? `**Missed targets (${missed.length} of ${all.filter((s) => s.target).length}):** ${missed.map((s) => s.label).join('; ')}.` : (all.length ? 'Every target met.' : ''),
    ...(pending.length ? ['', `Not run yet: ${pending.join(', ')}.`] : []),
    ...(failed.length ? ['', '**Runs that failed:**', ...failed.map((f) => `- ${f}`)] : []),
    '',
    ...(notes(all).length ? ['Notes:', ...notes(all).map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

/** Written after every figure, so that a long run interrupted still leaves what it measured. */
function save(pending: string[]): string {
  const text = report([{ machine, runs: raw, summaries, failures }], pending);
  writeFileSync(join(outDir, `${stamp}.json`), JSON.stringify({ machine, runs: raw, summaries, failures }, null, 2) + '\n');
  writeFileSync(join(outDir, 'RESULTS.md'), text);
  if (values.write) writeFileSync(join(PACKAGE_ROOT, 'bench', 'RESULTS.md'), text);
  return text;
}

if (values.combine) {
  const sources = values.combine.split(',').map((file) => JSON.parse(readFileSync(file, 'utf8')) as Saved);
  const text = report(sources, []);
  writeFileSync(join(outDir, 'RESULTS.md'), text);
  if (values.write) writeFileSync(join(PACKAGE_ROOT, 'bench', 'RESULTS.md'), text);
  console.log(text);
  process.exit(0);
}

for (const [index, figure] of chosen.entries()) {
  raw[figure.name] = [];
  for (let i = 1; i <= runs; i++) {
    process.stderr.write(`${figure.name}: run ${i} of ${runs}\n`);
    try {
      raw[figure.name]!.push(await runOnce(figure.name));
    } catch (err) {
      failures.push(`${figure.name} run ${i}: ${(err as Error).message}`);
      process.stderr.write(`${figure.name}: run ${i} failed: ${(err as Error).message}\n`);
    }
  }
  if (raw[figure.name]!.length) summaries.push(...summarize(figure.name, figure.title, raw[figure.name]!));
  save(chosen.slice(index + 1).map((f) => f.name));
}

console.log(save([]));
console.log(`raw runs: ${join(outDir, `${stamp}.json`)}`);
if (values.write) console.log(`written to ${join(PACKAGE_ROOT, 'bench', 'RESULTS.md')}`);
process.exitCode = failures.length ? 1 : 0;
