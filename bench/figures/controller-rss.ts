// Controller RSS with 1000 and 10,000 VMs converged (the controller a child process, the domains
// in a libvirtd), against the raw floor: a node process with the binding that has listed and
// read every one of the same domains on the same daemon.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import type { Figure, Row } from '../lib/figure.js';
import { scaleSession } from '../lib/scale-session.js';

/** The binding's module, for the raw process (compiled next to this file's). */
const NATIVE = new URL('../../src/adapters/libvirt/native.js', import.meta.url).href;
const run = promisify(execFile);
const MB = 2 ** 20 / 1e6;

/** RSS (MiB) of a fresh node process that reads every domain through the raw binding. */
async function rawFloorMiB(uri: string): Promise<number> {
  const script = `
    import { openConnection } from ${JSON.stringify(NATIVE)};
    const c = await openConnection(${JSON.stringify(uri)});
    const domains = await c.listAllDomains();
    const xml = [];
    for (const d of domains) { await d.getState(); xml.push(await d.getXmlDesc({ inactive: true })); }
    globalThis.gc?.();
    console.log(process.memoryUsage().rss / 2 ** 20);
    await c.close();
    process.exit(0);`;
  const { stdout } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: PACKAGE_ROOT, maxBuffer: 1 << 20 });
  return Number(stdout.trim());
}

export const figure: Figure = {
  name: 'controller-rss',
  title: 'Controller RSS with N VMs converged, against a raw binding process that read the same domains',
  async run({ quick }): Promise<Row[]> {
    const rows: Row[] = [];
    for (const [n, limit] of (quick ? [[200, 100], [1000, 200]] : [[1000, 100], [10_000, 200]]) as [number, number][]) {
      const s = await scaleSession(n, ['--resync', '1h']);
      try {
        const mem = s.controller.memoryMiB();
        const floor = await rawFloorMiB(s.uri);
        rows.push({
          id: `rss-${n}`, label: `Controller RSS, ${n} VMs converged`, value: mem.rss * MB, unit: 'MB',
          baseline: floor * MB, baselineLabel: 'raw binding process that listed and read every domain',
          target: { on: 'value', op: '<=', limit, text: `≤ ${limit} MB` },
          note: `read from /proc/PID/status (VmRSS) right after all Running; peak (VmHWM) in the last run: ${Math.round(mem.peak * MB)} MB; converge took ${Math.round(s.convergeMs)} ms`,
        });
      } finally {
        await s.dispose();
      }
    }
    return rows;
  },
};
