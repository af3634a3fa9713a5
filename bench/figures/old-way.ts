// The old way against wimaxvm, on libvirt's test driver inside a libvirtd (test+unix, the
// bench's own daemon): create+start, stop and remove N VMs with one `virsh` process per
// operation (a shell loop's define, start, destroy, undefine), against a running controller
// doing the same from files (write them → all Running; runStrategy Halted → all Stopped; remove
// them → every domain gone). The speed-up is virsh time / wimaxvm time.
import { execFile } from 'node:child_process';
import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ControllerChild, sum } from '../lib/controller-child.js';
import type { Figure, Row } from '../lib/figure.js';
import { RUN_TAG, vmDirectory, vmYaml } from '../lib/manifests.js';
import { privateTestDriver } from '../lib/private-libvirtd.js';
import { openRaw, rawXml, type RawLibvirt } from '../lib/raw-libvirt.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const run = promisify(execFile);

async function virshLoop(uri: string, n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-bench-virsh-'));
  const names = Array.from({ length: n }, (_, i) => `old-${RUN_TAG}-${i}`);
  names.forEach((name, i) => writeFileSync(join(dir, `${name}.xml`), rawXml(name, i)));
  const virsh = (...args: string[]) => run('virsh', ['-q', '-c', uri, ...args]);
  const t0 = performance.now();
  for (const name of names) {
    await virsh('define', join(dir, `${name}.xml`));
    await virsh('start', name);
  }
  for (const name of names) await virsh('destroy', name);
  for (const name of names) await virsh('undefine', name);
  const ms = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

/** Our domains (named prefix-…) that libvirt still has. */
async function remaining(conn: RawLibvirt, prefix: string): Promise<number> {
  const [inactive, active] = await Promise.all([conn.listDefinedDomainNames(), conn.listAllDomains()]);
  const names = new Set(inactive);
  for (const d of active) names.add(d.name);
  return [...names].filter((name) => name.startsWith(prefix)).length;
}

async function wimaxvm(uri: string, n: number): Promise<number> {
  const prefix = `new-${RUN_TAG}`;
  const { base, dir, state } = vmDirectory(0);
  // --allow-empty: removing every file is the point here; --poll: the stops are seen promptly either way.
  const controller = await ControllerChild.start(['--dir', dir, '--connect', uri, '--state-dir', state, '--resync', '1h', '--allow-empty']);
  const conn = await openRaw(uri);
  try {
    const files = Array.from({ length: n }, (_, i) => join(dir, `${prefix}-${i}.yaml`));
    // A running controller has read files before: its parse worker is loaded. One just started
    // is still loading it (0.2 s quiet, over a second under load), which is start-up, not this.
    writeFileSync(join(dir, `warm-${RUN_TAG}.yaml`), vmYaml(`warm-${RUN_TAG}`));
    await controller.until((m) => m.get('wimaxvm_vms{status="Running"}') === 1, 50);
    const t0 = performance.now();
    files.forEach((f, i) => writeFileSync(f, vmYaml(`${prefix}-${i}`)));
    await controller.until((m) => m.get('wimaxvm_vms{status="Running"}') === n + 1, 50);
    files.forEach((f, i) => writeFileSync(f, vmYaml(`${prefix}-${i}`).replace('spec:\n', 'spec:\n  runStrategy: Halted\n')));
    await controller.until((m) => m.get('wimaxvm_vms{status="Stopped"}') === n, 50);
    files.forEach((f) => unlinkSync(f));
    for (;;) {
      if (await remaining(conn, prefix) === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const ms = performance.now() - t0;
    const m = await controller.metrics();
    if (sum(m, 'wimaxvm_processes_spawned_total') !== 0) throw new Error('the controller spawned processes to manage VMs');
    return ms;
  } finally {
    await conn.close();
    await controller.stop();
    rmSync(base, { recursive: true, force: true });
  }
}

export const figure: Figure = {
  name: 'old-way',
  title: 'The old way: create+start, stop, remove VMs, one virsh process per operation vs wimaxvm from files (test+unix)',
  async run({ quick }): Promise<Row[]> {
    const n = quick ? 50 : 200;
    const daemon = await privateTestDriver();
    try {
      const ours = await wimaxvm(daemon.uri, n);
      const virsh = await virshLoop(daemon.uri, n);
      return [{
        id: 'old-way', label: `${n} VMs created+started, stopped, removed: wimaxvm from files (controller already running)`, value: ours, unit: 'ms',
        baseline: virsh, baselineLabel: `${n * 4} virsh processes (define, start, destroy, undefine), one after another`, speedup: true,
        target: { on: 'ratio', op: '>=', limit: 20, text: '≥ 20× faster than virsh' },
        note: 'the controller has run one VM before (its parse worker is loaded); both on libvirt\'s test driver in a libvirtd of the bench\'s own (test+unix:///default on a private socket); wimaxvm\'s time includes the 400 ms settle window of the stop (a change spanning files read before) and the 400 ms second look of the removal; the new files are read at once',
      }];
    } finally {
      await daemon.dispose();
    }
  },
};
