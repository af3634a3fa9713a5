// The controller's young generation stops growing at its cap (src/runtime/young-generation.ts).
// V8's flags are per process: each case runs in a node process of its own, on the built module.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/package-root.js';

const run = promisify(execFile);
const MODULE = join(PACKAGE_ROOT, 'dist/src/runtime/young-generation.js');

/** Largest new space (MiB, both semi-spaces) seen over a burst that keeps many young objects alive, with the cap or without. */
async function largestNewSpace(capSemiSpaceMiB: number | undefined): Promise<number> {
  const script = `
    const { capYoungGeneration, newSpaceBytes } = await import(${JSON.stringify(MODULE)});
    const { Worker } = await import('node:worker_threads');
    ${capSemiSpaceMiB === undefined ? '' : `capYoungGeneration(${capSemiSpaceMiB});`}
    let largest = 0;
    let keep = [];
    for (let turn = 0; turn < 20; turn++) {
      if (turn === 8) { // a new isolate sets V8's growth factor back to its default
        const worker = new Worker('', { eval: true });
        await new Promise((r) => worker.once('online', r));
      }
      for (let i = 0; i < 100_000; i++) {
        keep.push({ i, s: 'x' + i });
        if (keep.length > 200_000) keep = [];
      }
      largest = Math.max(largest, newSpaceBytes());
      await new Promise((r) => setImmediate(r)); // the cap acts between turns of the loop
    }
    console.log(largest / 2 ** 20);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return Number(stdout.trim());
}

describe('the young generation is capped (issue 12, controller RSS)', () => {
  it('a burst that grows it past 8 MiB without the cap leaves it at the cap with it, a worker thread started meanwhile', async () => {
    const [uncapped, capped] = await Promise.all([largestNewSpace(undefined), largestNewSpace(4)]);
    expect(uncapped).toBeGreaterThan(8);
    expect(capped).toBeLessThanOrEqual(8);
    expect(capped).toBeGreaterThan(2); // it still grows, up to the cap
  });
});
