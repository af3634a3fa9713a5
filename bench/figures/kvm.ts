// Real KVM on qemu:///system: N tiny real guests (test/helpers/real-guest: Debian's kernel and a
// busybox initramfs) declared 100 ms apart, declaration → domain running, P50 and P95; against
// the raw binding defining and starting the same guests (own overlays) on the same schedule.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, basename } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { ControllerChild } from '../lib/controller-child.js';
import type { Figure, Row } from '../lib/figure.js';
import { RUN_TAG } from '../lib/manifests.js';
import { openRaw, rawXml, type RawLibvirt } from '../lib/raw-libvirt.js';
import { percentile } from '../lib/stats.js';

const URI = 'qemu:///system';
const APART_MS = 100;
/** What the controller picks too (defaultDomainType): KVM where /dev/kvm exists, else QEMU's emulation. */
const TYPE = existsSync('/dev/kvm') ? 'kvm' : 'qemu';
const run = promisify(execFile);
/** The real guest's REAL_GUEST_MEMORY (test/helpers/real-guest/index.ts). */
const REAL_GUEST_MEMORY = '128Mi';

/**
 * The cached real guest disk (built on first use). Its builder hashes and reads its own sources,
 * so it runs from them (tsx), not from dist/.
 */
async function realGuestDisk(): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
    "import { ensureRealGuestDisk } from './test/helpers/real-guest/index.ts'; console.log(await ensureRealGuestDisk());"], { cwd: PACKAGE_ROOT, maxBuffer: 16 << 20 });
  return stdout.trim().split('\n').pop()!;
}

const guestYaml = (name: string, image: string) =>
  `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${name}\nspec:\n  memory: ${REAL_GUEST_MEMORY}\n  disks:\n    - image: ${image}\n`;

/** Names of the active domains starting with prefix, each with when it was first seen. */
class RunningWatch {
  private readonly ids = new Map<number, string>();
  readonly seen = new Map<string, number>();
  private stopped = false;
  readonly done: Promise<void>;

  constructor(private readonly conn: RawLibvirt, private readonly prefix: string) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      for (const id of await this.conn.listActiveDomainIds()) {
        if (this.ids.has(id)) continue;
        // A domain may go between the listing and the lookup (others' tests share the daemon).
        const name = await this.conn.lookupDomainById(id).then((d) => d.name).catch(() => '');
        this.ids.set(id, name);
        if (name.startsWith(this.prefix) && !this.seen.has(name)) this.seen.set(name, performance.now());
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

async function ours(conn: RawLibvirt, disk: string, n: number): Promise<number[]> {
  const prefix = `kvm-${RUN_TAG}-`;
  const base = mkdtempSync(join(tmpdir(), 'wimaxvm-bench-kvm-'));
  chmodSync(base, 0o755); // libvirt's qemu user reaches the overlays below it
  const dir = join(base, 'vms');
  mkdirSync(dir);
  const controller = await ControllerChild.start(['--dir', dir, '--connect', URI, '--state-dir', join(base, 'state'), '--image-dir', dirname(disk), '--shutdown-timeout', '5s', '--resync', '1h', '--allow-empty']);
  const watch = new RunningWatch(conn, prefix);
  const declared = new Map<string, number>();
  try {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const wait = t0 + i * APART_MS - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const name = `${prefix}${i}`;
      declared.set(name, performance.now());
      writeFileSync(join(dir, `${name}.yaml`), guestYaml(name, basename(disk)));
    }
    // A bench never hangs: a guest not running after a generous while fails the run, saying why.
    const deadline = performance.now() + 120_000 + n * 5_000;
    while (watch.seen.size < n) {
      if (performance.now() > deadline) throw new Error(`${watch.seen.size} of ${n} guests running after ${Math.round((performance.now() - t0) / 1000)} s; the controller said:\n${controller.logTail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return [...declared].map(([name, at]) => watch.seen.get(name)! - at);
  } finally {
    await watch.stop();
    // The controller deletes what it made (files removed; --allow-empty): the way a user would.
    for (const name of declared.keys()) unlinkSync(join(dir, `${name}.yaml`));
    for (;;) {
      const left = (await conn.listAllDomains()).map((d) => d.name);
      if (!left.some((name) => name.startsWith(prefix))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await controller.stop();
    rmSync(base, { recursive: true, force: true });
  }
}

async function raw(conn: RawLibvirt, disk: string, n: number): Promise<number[]> {
  const base = mkdtempSync(join(tmpdir(), 'wimaxvm-bench-kvmraw-'));
  chmodSync(base, 0o755);
  const names = Array.from({ length: n }, (_, i) => `kvmraw-${RUN_TAG}-${i}`);
  const xmls = await Promise.all(names.map(async (name, i) => {
    const overlay = join(base, `${name}.qcow2`);
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', disk, overlay]);
    return rawXml(name, 70_000 + i, TYPE, 128 * 1024, [overlay]);
  }));
  const ms: number[] = [];
  try {
    const t0 = performance.now();
    await Promise.all(xmls.map(async (xml, i) => {
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + i * APART_MS - performance.now())));
      const at = performance.now();
      await (await conn.defineDomain(xml)).create();
      ms.push(performance.now() - at);
    }));
    return ms;
  } finally {
    for (const name of names) {
      const d = await conn.lookupDomainByName(name).catch(() => undefined);
      if (!d) continue;
      await d.destroy().catch(() => undefined);
      await d.undefine().catch(() => undefined);
    }
    rmSync(base, { recursive: true, force: true });
  }
}

export const figure: Figure = {
  name: 'kvm',
  title: 'Real KVM: tiny real guests declared 100 ms apart, declaration → domain running',
  async run({ quick }): Promise<Row[]> {
    const n = quick ? 10 : 50;
    const disk = await realGuestDisk();
    const conn = await openRaw(URI);
    try {
      const wimaxvm = await ours(conn, disk, n);
      const rawMs = await raw(conn, disk, n);
      const note = `${n} real guests (${REAL_GUEST_MEMORY}, the tiny Debian-kernel guest of test/helpers/real-guest) on qemu:///system; "running" as first seen by a 20 ms poll of libvirt's active domains (raw: when start returned)`;
      return [
        { id: 'kvm-p50', label: `Real ${TYPE === 'kvm' ? 'KVM' : 'QEMU (no /dev/kvm: emulation)'}, ${n} guests 100 ms apart: declaration → running, P50`, value: percentile(wimaxvm, 50), unit: 'ms',
          baseline: percentile(rawMs, 50), baselineLabel: 'raw define+start, same schedule, P50', target: { on: 'value', op: '<=', limit: 1000, text: 'P50 ≤ 1 s' }, note },
        { id: 'kvm-p95', label: `Real ${TYPE === 'kvm' ? 'KVM' : 'QEMU (no /dev/kvm: emulation)'}, ${n} guests 100 ms apart: declaration → running, P95`, value: percentile(wimaxvm, 95), unit: 'ms',
          baseline: percentile(rawMs, 95), baselineLabel: 'raw define+start, same schedule, P95', target: { on: 'value', op: '<=', limit: 2000, text: 'P95 ≤ 2 s' } },
      ];
    } finally {
      await conn.close();
    }
  },
};
