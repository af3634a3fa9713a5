// Live changes on the tiny real guest (test/helpers/real-guest/) under wimaxvm on libvirtd +
// QEMU, booted once and driven by editing its YAML file: its memory (balloon), vCPUs, a disk and
// a NIC change while it runs, and the guest says what it sees on its serial console (live.sh:
// MemTotal, online CPUs, /sys/block, /sys/class/net). Figures go to the log, not into assertions.
import { rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCondition } from '../../src/api/meta.js';
import { parseDomainXml, serialLogPath } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { ensureRealGuestDisk, GUEST_SAYS, wimaxvmSerialLog, type SerialLog } from '../helpers/real-guest/index.js';
import { answers, systemTestsEnabled, virsh } from '../helpers/system.js';

const enabled = systemTestsEnabled();
const run = Math.random().toString(36).slice(2, 7);
const VM = `live-${run}`;
const NET = `live-${run}`;
const NIC_MAC = '52:54:00:1e:00:02';
const MiB = 1024;

/** What the guest says of itself (live.sh) each time it changes. */
const LIVE_LINE = /wimaxvm-guest live memtotal=(\d+)kB cpus=(\S*) disks=(\S*) nics=(\S*)/g;
interface GuestView { memTotalKiB: number; cpus: string; disks: string; nics: string }
function views(log: SerialLog, from = 0): GuestView[] {
  return [...log.text(from).matchAll(LIVE_LINE)].map((m) => ({ memTotalKiB: Number(m[1]), cpus: m[2]!, disks: m[3]!, nics: m[4]! }));
}

interface Spec { runStrategy?: string; memory: string; maxMemory: string; vcpus: number; disks: number; nic?: boolean }

const figures: Record<string, string> = {};

describe.runIf(enabled)('live changes on a real guest from its YAML file: balloon, vCPU, disk and NIC hot-plug', () => {
  let h: Harness;
  let image: string;
  let log: SerialLog;
  let firstId: number | undefined;

  /** The guest's declaration: its image as every disk (each disk its own overlay), the NIC on this run's network. */
  function declare(spec: Spec): void {
    const extra = [
      `  maxMemory: ${spec.maxMemory}`, '  maxVcpus: 2', '  disks:',
      ...Array.from({ length: spec.disks }, () => `    - image: ${basename(image)}`),
      ...(spec.nic ? ['  interfaces:', `    - name: lab`, `      network: ${NET}`, `      mac: "${NIC_MAC}"`] : []),
    ].join('\n');
    h.write('guest.yaml', vmYaml({ name: VM, runStrategy: spec.runStrategy ?? 'Always', memory: spec.memory, vcpus: spec.vcpus, extra }));
  }

  /** Waits for the guest to say something that passes `check`, after log offset `from`. */
  function guestSees(from: number, what: string, check: (v: GuestView) => boolean, timeoutMs = 60_000): Promise<GuestView> {
    return eventually(() => views(log, from).find(check), `the guest to see ${what}`, timeoutMs);
  }

  /**
   * The guest's MemTotal once the balloon has reached `kib`: libvirt's "actual" (QEMU's balloon
   * size, which the guest's driver reports after it has given or taken the pages) equals the
   * target, and the guest has looked again since (two counter lines: live.sh runs after each).
   */
  async function settledMemTotal(kib: number): Promise<number> {
    const actual = () => Number(/^actual (\d+)$/m.exec(virsh('dommemstat', VM))?.[1]);
    await eventually(() => actual() === kib, `the balloon at ${kib} KiB (virsh dommemstat actual)`, 60_000);
    const mark = log.size();
    await eventually(() => log.counters(mark).length >= 2, 'the guest to look again', 30_000);
    return views(log).at(-1)!.memTotalKiB;
  }

  const liveUpdated = (what: string) => eventually(() => {
    const c = findCondition(h.status(VM)?.conditions ?? [], 'LiveUpdated');
    return c?.status === 'True' && c.message.includes(what) ? c : undefined;
  }, `LiveUpdated saying ${what}`, 30_000);

  beforeAll(async () => {
    image = await ensureRealGuestDisk();
    // An isolated libvirt network of this run's own for the extra NIC (a bridge, no DHCP, no NAT).
    h = await Harness.create({ uri: 'qemu:///system', flags: { 'image-dir': dirname(image), 'shutdown-timeout': '30s', poll: '200ms' } });
    const netXml = join(h.stateDir, '..', 'net.xml');
    writeFileSync(netXml, `<network><name>${NET}</name><bridge name='vl${run}' stp='off' delay='0'/></network>`);
    virsh('net-create', netXml);
    log = wimaxvmSerialLog(VM);
    declare({ memory: '128Mi', maxMemory: '256Mi', vcpus: 1, disks: 1 });
    const t = Date.now();
    await h.start();
    await h.waitForStatus(VM, 'Running', 60_000);
    await log.waitForReady({ timeoutMs: 240_000 });
    firstId = h.status(VM)!.domain!.id;
    figures.boot = `${Date.now() - t} ms from the controller's start to the ready line`;
  }, 300_000);

  afterAll(async () => {
    await h?.stop();
    answers('virsh', '-c', 'qemu:///system', 'destroy', VM);
    answers('virsh', '-c', 'qemu:///system', 'undefine', VM);
    answers('virsh', '-c', 'qemu:///system', 'net-destroy', NET);
    await h?.dispose();
    rmSync(serialLogPath(VM), { force: true });
    console.log(`live changes (${VM}): ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  });

  it('the balloon: memory given and taken back within the maximum, MemTotal follows in the guest to the KiB', async () => {
    // Booted with the maximum (256Mi), the balloon took it down to 128Mi.
    const booted = await settledMemTotal(128 * MiB);
    let t = Date.now();
    declare({ memory: '224Mi', maxMemory: '256Mi', vcpus: 1, disks: 1 });
    const grown = await settledMemTotal(224 * MiB);
    figures.balloonUp = `${Date.now() - t} ms from the edit to MemTotal ${booted} → ${grown} kB (128Mi → 224Mi)`;
    expect(grown - booted).toBe(96 * MiB);
    await liveUpdated('memory 224Mi');
    t = Date.now();
    declare({ memory: '160Mi', maxMemory: '256Mi', vcpus: 1, disks: 1 });
    const shrunk = await settledMemTotal(160 * MiB);
    figures.balloonDown = `${Date.now() - t} ms from the edit to MemTotal ${grown} → ${shrunk} kB (224Mi → 160Mi)`;
    expect(shrunk - grown).toBe(-64 * MiB);
    expect(parseDomainXml((await h.observer.getDomain(VM, true))!.liveXml!).facts).toMatchObject({ memoryKiB: 160 * MiB, maxMemoryKiB: 256 * MiB });
  }, 150_000);

  it('a vCPU hot-plugged is seen online', async () => {
    const mark = log.size();
    const t = Date.now();
    declare({ memory: '160Mi', maxMemory: '256Mi', vcpus: 2, disks: 1 });
    await guestSees(mark, 'CPUs 0-1 online', (v) => v.cpus === '0-1');
    figures.vcpu = `${Date.now() - t} ms from the edit to cpus=0-1 in the guest`;
    expect(virsh('vcpucount', VM, '--live', '--active').trim()).toBe('2');
    await liveUpdated('vcpus 2');
  }, 90_000);

  it('a disk and a NIC added are plugged in (/sys/block/vdb, eth1); removed, they go again', async () => {
    let mark = log.size();
    let t = Date.now();
    declare({ memory: '160Mi', maxMemory: '256Mi', vcpus: 2, disks: 2, nic: true });
    await guestSees(mark, 'vdb and eth1', (v) => v.disks === 'vda,vdb,' && v.nics === 'eth0,eth1,');
    figures.plug = `${Date.now() - t} ms from the edit to vdb and eth1 in the guest`;
    await liveUpdated(`disk vdb added, NIC ${NIC_MAC} on ${NET} added`);
    expect(virsh('domblklist', VM)).toMatch(new RegExp(`vdb\\s+${h.stateDir}/overlays/${VM}/disk1-`));

    mark = log.size();
    t = Date.now();
    declare({ memory: '160Mi', maxMemory: '256Mi', vcpus: 2, disks: 1 });
    await guestSees(mark, 'vdb and eth1 gone', (v) => v.disks === 'vda,' && v.nics === 'eth0,');
    figures.unplug = `${Date.now() - t} ms from the edit to vdb and eth1 gone in the guest`;
    // libvirt may finish the removal after the guest let go: the controller's look converges.
    await liveUpdated(`disk vdb removed, NIC ${NIC_MAC} removed`);
    await eventually(async () => parseDomainXml((await h.observer.getDomain(VM, true))!.liveXml!).facts.diskPaths.length === 1, 'libvirt to show vdb gone', 30_000);
  }, 150_000);

  it('beyond the maximum under Manual: RestartRequired says what waits, and the guest runs on; it ran in one boot all along', async () => {
    declare({ runStrategy: 'Manual', memory: '512Mi', maxMemory: '512Mi', vcpus: 2, disks: 1 });
    const required = await eventually(() => findCondition(h.status(VM)?.conditions ?? [], 'RestartRequired'), 'RestartRequired', 30_000);
    expect(required.message).toMatch(/^memory, maxMemory changed; runStrategy Manual leaves the restart to you/);
    const status = h.status(VM)!;
    expect(status.printableStatus).toBe('Running');
    expect(status.domain!.id).toBe(firstId);
    expect(status.restarts ?? 0).toBe(0);
    expect(log.text().match(new RegExp(GUEST_SAYS.ready.source, 'g'))).toHaveLength(1);
    expect(virsh('domstate', VM).trim()).toBe('running');
  }, 60_000);
});
