// A full resync with 10,000 VMs converged and nothing to do: the controller's mutating libvirt
// calls (its /metrics counters) and CPU time (/proc) over the resync, against the CPU a raw
// binding process spends on the same reads (list every domain; state and XML of each).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { sum, type Samples } from '../lib/controller-child.js';
import type { Figure, Row } from '../lib/figure.js';
import { scaleSession } from '../lib/scale-session.js';

/** The binding's module, for the raw process (compiled next to this file's). */
const NATIVE = new URL('../../src/adapters/libvirt/native.js', import.meta.url).href;
const run = promisify(execFile);
const RESYNC_S = 20;

const reconciles = (m: Samples) => sum(m, 'wimaxvm_reconcile_total', 'kind="VirtualMachine"');
const mutating = (m: Samples) => sum(m, 'wimaxvm_libvirt_calls_total', 'mutating="true"');
const calls = (m: Samples) => sum(m, 'wimaxvm_libvirt_calls_total');
const busy = (m: Samples) => sum(m, 'wimaxvm_workqueue_depth') + sum(m, 'wimaxvm_workqueue_in_flight');

/** CPU seconds of a fresh process doing the reads a resync needs, through the raw binding. */
async function rawReadsCpu(uri: string): Promise<number> {
  const script = `
    import { openConnection } from ${JSON.stringify(NATIVE)};
    const c = await openConnection(${JSON.stringify(uri)});
    const t0 = process.cpuUsage();
    const domains = await c.listAllDomains();
    await Promise.all(domains.map(async (d) => { await d.getState(); await d.getXmlDesc({ inactive: true }); await d.getXmlDesc(); }));
    const u = process.cpuUsage(t0);
    console.log((u.user + u.system) / 1e6);
    await c.close();
    process.exit(0);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: PACKAGE_ROOT });
  return Number(stdout.trim());
}

export const figure: Figure = {
  name: 'resync',
  title: 'Full resync at 10k VMs with nothing to do: mutating calls and CPU time',
  async run({ quick }): Promise<Row[]> {
    const n = quick ? 1000 : 10_000;
    const s = await scaleSession(n, ['--resync', `${RESYNC_S}s`]);
    try {
      // The periodic resync is the trigger: scrapes every 200 ms find where it starts and ends.
      let before = await s.controller.metrics();
      let cpuBefore = s.controller.cpuSeconds();
      for (;;) {
        await new Promise((r) => setTimeout(r, 200));
        const m = await s.controller.metrics();
        const cpu = s.controller.cpuSeconds();
        // It began since the last scrape: the first reconciles, or before them the one listing of every domain.
        if (reconciles(m) > reconciles(before) || calls(m) > calls(before)) break;
        before = m;
        cpuBefore = cpu;
      }
      const t0 = performance.now();
      const after = await s.controller.until((m) => reconciles(m) >= reconciles(before) + n && busy(m) === 0, 200);
      const cpu = s.controller.cpuSeconds() - cpuBefore;
      const wallMs = performance.now() - t0;
      const raw = await rawReadsCpu(s.uri);
      const made = calls(after) - calls(before);
      return [
        {
          id: 'resync-mutating', label: `Full resync at ${n} VMs: mutating libvirt calls`, value: mutating(after) - mutating(before), unit: '',
          target: { on: 'value', op: '<=', limit: 0, text: '0' },
          note: `from wimaxvm_libvirt_calls_total; the resync made ${made} libvirt calls in all (last run)`,
        },
        {
          id: 'resync-cpu', label: `Full resync at ${n} VMs: controller CPU time`, value: cpu * 1000, unit: 'ms',
          baseline: raw * 1000, baselineLabel: 'raw binding: list every domain, state and both XMLs of each',
          target: { on: 'value', op: '<', limit: 1000, text: '< 1 s CPU' },
          note: `user+system from /proc/PID/stat (10 ms ticks) between the scrapes around the resync (200 ms apart; the domain poller's share of that window included); wall ≈ ${Math.round(wallMs)} ms (last run)`,
        },
      ];
    } finally {
      await s.dispose();
    }
  },
};
