// 1000 VMs from a directory on test:///default (in process): controller start → all Running,
// against the best raw define+start of the same domains with the same concurrency (the
// controller's workers) and sequentially, in the same process and run.
import { rmSync } from 'node:fs';
import { buildConfig } from '../../src/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startController } from '../../src/main.js';
import type { Figure, Row } from '../lib/figure.js';
import { vmDirectory } from '../lib/manifests.js';
import { defineStart, destroyUndefine, openRaw, rawXml } from '../lib/raw-libvirt.js';

const URI = 'test:///default';
const WORKERS = 8;

async function controllerConverge(n: number): Promise<number> {
  const { base, dir, state } = vmDirectory(n);
  const config = buildConfig({ dir, connect: URI, 'state-dir': state, workers: String(WORKERS), resync: '1h', listen: 'off' });
  const t0 = performance.now();
  const running = await startController(config, silentLogger);
  const keys = Array.from({ length: n }, (_, i) => `VirtualMachine/default/vm-${i}`);
  for (;;) {
    await running.idle();
    if (keys.every((k) => running.statuses.get(k)?.status?.printableStatus === 'Running')) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const ms = performance.now() - t0;
  await running.stop();
  rmSync(base, { recursive: true, force: true });
  return ms;
}

async function raw(n: number, concurrency: number): Promise<number> {
  const conn = await openRaw(URI);
  const names = Array.from({ length: n }, (_, i) => `raw-${i}`);
  const ms = await defineStart(conn, names.map((name, i) => rawXml(name, i)), concurrency);
  await destroyUndefine(conn, names);
  await conn.close();
  return ms;
}

export const figure: Figure = {
  name: 'converge',
  title: 'VMs from a directory, test:///default: converge time vs best raw define+start',
  async run({ quick }): Promise<Row[]> {
    const n = quick ? 200 : 1000;
    // The controller first, in a fresh process (the runner's child), so the raw phases' garbage is not in its way.
    const ours = await controllerConverge(n);
    const sequential = await raw(n, 1);
    const parallel = await raw(n, WORKERS);
    const best = Math.min(sequential, parallel);
    return [{
      id: 'converge', label: `${n} VMs: controller start → all Running`, value: ours, unit: 'ms',
      baseline: best, baselineLabel: `best raw define+start (${WORKERS} in flight: ${Math.round(parallel)} ms, sequential: ${Math.round(sequential)} ms)`,
      target: { on: 'ratio', op: '<=', limit: 1.5, text: '≤ 1.5× best raw' },
    }];
  },
};
