// The fuzz tier (issue 15): a seeded, reproducible fuzzer of manifest files. Most cases run
// in-process through the functions a watched file goes through (parser, schema validation, the
// reconciler's planning); a few hundred go through a running controller as files in its watched
// directory, beside 20 valid VMs that must not be disturbed.
//   WIMAXVM_FUZZ_SEED=N            replay a run (the seed is printed on every run and failure)
//   WIMAXVM_FUZZ_CASES=N           in-process cases (default 10000)
//   WIMAXVM_FUZZ_CONTROLLER_CASES=N  cases through the running controller (default 300)
// A failing case is written to test/faults/regressions/ and re-run by every later run.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Harness, manyVms } from '../helpers/harness.js';
import { barrier, disturbed, expectNoneDisturbed, markDomains } from './fault-helpers.js';
import { checkCase } from './fuzz/check.js';
import { caseText, CLASSES, type FuzzCase } from './fuzz/generator.js';

const REGRESSIONS = join(dirname(fileURLToPath(import.meta.url)), 'regressions');
const SEED = process.env.WIMAXVM_FUZZ_SEED ? Number(process.env.WIMAXVM_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const CASES = Number(process.env.WIMAXVM_FUZZ_CASES ?? 10_000);
const CONTROLLER_CASES = Number(process.env.WIMAXVM_FUZZ_CONTROLLER_CASES ?? 300);
/** In-process cases keep huge and deep files small (parse time); the controller gets the real sizes. */
const IN_PROCESS_LIMITS = { maxBytes: 16 * 1024, maxDepth: 300 };

console.log(`fuzz seed ${SEED} (replay with WIMAXVM_FUZZ_SEED=${SEED})`);

/** Keeps a failing case for good: its text, and why, beside it. */
function saveRegression(c: FuzzCase, problems: string[]): string {
  mkdirSync(REGRESSIONS, { recursive: true });
  const base = join(REGRESSIONS, `seed-${SEED}-case-${c.index}-${c.kind}`);
  writeFileSync(`${base}.yaml`, c.text);
  writeFileSync(`${base}.json`, JSON.stringify({ seed: SEED, index: c.index, kind: c.kind, problems }, null, 2) + '\n');
  return `${base}.yaml`;
}

describe(`fuzzing manifests (seed ${SEED})`, () => {
  it('every saved regression case still passes', async () => {
    const files = readdirSync(REGRESSIONS).filter((f) => f.endsWith('.yaml')).sort();
    const failures: string[] = [];
    for (const f of files) {
      const outcome = await checkCase(readFileSync(join(REGRESSIONS, f), 'utf8'), `regressions/${f}`);
      if (outcome.problems.length) failures.push(`${f}: ${outcome.problems.join('; ')}`);
    }
    expect(failures).toEqual([]);
    expect(files.length).toBeGreaterThan(0);
  });

  it(`${CASES} cases in-process: nothing throws, every error names its file and line, valid VMs plan`, async () => {
    const failures: string[] = [];
    const seen = Object.fromEntries(CLASSES.map((k) => [k, 0]));
    const msByClass = Object.fromEntries(CLASSES.map((k) => [k, 0]));
    let valid = 0, invalid = 0, slowest = { ms: 0, index: -1 };
    for (let i = 0; i < CASES; i++) {
      const c = caseText(SEED, i, IN_PROCESS_LIMITS);
      seen[c.kind]!++;
      const t0 = performance.now();
      const outcome = await checkCase(c.text, `fuzz/case-${i}.yaml`);
      msByClass[c.kind]! += performance.now() - t0;
      if (outcome.resources) valid++;
      if (outcome.errors) invalid++;
      if (outcome.parseMs > slowest.ms) slowest = { ms: outcome.parseMs, index: i };
      // The checks are synchronous at heart: let the event loop breathe (vitest's RPC, timers).
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
      if (outcome.problems.length && failures.length < 20) {
        failures.push(`seed ${SEED} case ${i} (${c.kind}, saved as ${saveRegression(c, outcome.problems)}): ${outcome.problems.join('; ')}`);
      }
    }
    console.log(`fuzz seed ${SEED}: ${CASES} cases, ${valid} with valid resources, ${invalid} with errors; by class ${JSON.stringify(seen)}; slowest parse ${slowest.ms.toFixed(0)} ms (case ${slowest.index}); ms by class ${JSON.stringify(Object.fromEntries(Object.entries(msByClass).map(([k, v]) => [k, Math.round(v)])))}`);
    expect(failures, `fuzz seed ${SEED}`).toEqual([]);
    // The generator reaches both sides and every hostile class.
    expect(valid).toBeGreaterThan(CASES / 10);
    expect(invalid).toBeGreaterThan(CASES / 10);
    if (CASES >= 1000) expect(Object.values(seen).every((n) => n > 0)).toBe(true);
  }, 600_000);

  describe(`${CONTROLLER_CASES} cases through a running controller with 20 valid VMs (test:///default)`, () => {
    let h: Harness;
    const valid = Array.from({ length: 20 }, (_, i) => `fzvalid-${i}`);
    const SLOTS = 20;

    beforeAll(async () => {
      h = await Harness.create({ files: { 'valid.yaml': manyVms(valid.map((name) => ({ name }))) }, flags: { settle: '150ms', workers: '4' } });
      await h.start();
      await eventually(() => valid.every((n) => h.status(n)?.printableStatus === 'Running'), '20 valid VMs Running', 60_000);
      await h.settle();
    });
    afterAll(async () => h?.dispose());

    it('0 crashes, 0 valid VMs disturbed, RSS bounded, every broken file reported with file and line', async () => {
      const before = await markDomains(h, valid);
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      const unreported: string[] = [];
      for (let start = 0; start < CONTROLLER_CASES; start += SLOTS) {
        const logFrom = h.logs.length;
        const batch: { file: string; c: FuzzCase; broken: boolean }[] = [];
        for (let slot = 0; slot < SLOTS && start + slot < CONTROLLER_CASES; slot++) {
          // Controller cases come after the in-process ones: other texts, full sizes.
          const c = caseText(SEED, CASES + start + slot, { prefix: 'fzc' });
          const file = `fuzz/slot-${slot}.yaml`;
          const outcome = await checkCase(c.text, file);
          h.write(file, c.text);
          batch.push({ file, c, broken: outcome.errors > 0 });
        }
        await barrier(h, 'fzc');
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        const logs = h.logs.slice(logFrom);
        expect(logs.filter((l) => l.includes('failed to handle a file event')), `seed ${SEED}: an exception lost its file and line`).toEqual([]);
        for (const { file, c, broken } of batch) {
          const named = new RegExp(`"invalid manifest: ${file.replace(/[.]/g, '\\.')}:\\d+: `);
          if (broken && !logs.some((l) => named.test(l))) unreported.push(`seed ${SEED} case ${c.index} (${c.kind}) in ${file}: no "invalid manifest: ${file}:LINE:" in the log`);
        }
      }
      expectNoneDisturbed(await disturbed(h, before));
      expect(unreported).toEqual([]);
      const grownMiB = (rssPeak - rssBefore) / 2 ** 20;
      console.log(`fuzz seed ${SEED}: ${CONTROLLER_CASES} cases through the controller; RSS ${Math.round(rssBefore / 2 ** 20)} MiB -> peak ${Math.round(rssPeak / 2 ** 20)} MiB`);
      expect(grownMiB, 'RSS grew by more than 1 GiB').toBeLessThan(1024);
    }, 600_000);
  });
});
