// Live changes on the tiny real guest (test/helpers/real-guest/) under libvirtd + QEMU, booted
// once: the live-change planner and its applier, through the libvirt adapter, change the running
// guest's memory (balloon), vCPUs, disks and NICs, and the guest says what it sees on its serial
// console (live.sh: MemTotal, online CPUs, /sys/block, /sys/class/net). Figures go to the log.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { QemuImgDisks } from '../../src/adapters/qemu-img-disks.js';
import { silentLogger } from '../../src/core/logger.js';
import { buildDomainXml, factsOf, parseDomainXml, serialLogPath, type DomainDefinition } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { applyLiveOperations } from '../../src/reconcilers/virtual-machine/live-apply.js';
import { planLiveChanges } from '../../src/reconcilers/virtual-machine/live-changes.js';
import { eventually } from '../helpers/harness.js';
import { ensureRealGuestDisk, wimaxvmSerialLog, type SerialLog } from '../helpers/real-guest/index.js';
import { answers, systemTestsEnabled, virsh } from '../helpers/system.js';

const enabled = systemTestsEnabled();
const run = Math.random().toString(36).slice(2, 7);
const VM = `live-${run}`;
const NET = `live-${run}`;
const MiB = 1024;

/** What the guest says of itself (live.sh), newest last. */
const LIVE_LINE = /wimaxvm-guest live memtotal=(\d+)kB cpus=(\S*) disks=(\S*) nics=(\S*)/g;
interface GuestView { memTotalKiB: number; cpus: string; disks: string; nics: string }
function views(log: SerialLog, from = 0): GuestView[] {
  return [...log.text(from).matchAll(LIVE_LINE)].map((m) => ({ memTotalKiB: Number(m[1]), cpus: m[2]!, disks: m[3]!, nics: m[4]! }));
}

const figures: Record<string, string> = {};

describe.runIf(enabled)('live changes on a real guest: balloon, vCPU, disk and NIC hot-plug', () => {
  const hv = new LibvirtHypervisor({ uri: 'qemu:///system', logger: silentLogger });
  let dir: string;
  let disks: QemuImgDisks;
  let image: string;
  let log: SerialLog;
  let desired: DomainDefinition;

  /** Plans from what libvirt says of the running guest, applies, and returns what was applied. */
  async function converge(next: DomainDefinition): Promise<string[]> {
    desired = next;
    const live = parseDomainXml((await hv.getDomain(VM, true))!.liveXml!).facts;
    const plan = planLiveChanges({ desired: factsOf(next), live });
    expect(plan.restartRequired).toEqual([]);
    const result = await applyLiveOperations({ hypervisor: hv, prepareDisk: (i) => disks.ensureOverlay(VM, i, image) }, VM, plan.operations);
    expect(result.failed).toEqual([]);
    return result.applied.map((op) => op.type);
  }

  /** Waits for the guest to say something that passes `check`, after log offset `from`. */
  function guestSees(from: number, what: string, check: (v: GuestView) => boolean, timeoutMs = 60_000): Promise<GuestView> {
    return eventually(() => views(log, from).find(check), `the guest to see ${what}`, timeoutMs);
  }

  beforeAll(async () => {
    image = await ensureRealGuestDisk();
    dir = mkdtempSync(join(tmpdir(), 'wimaxvm-live-'));
    chmodSync(dir, 0o755); // libvirtd's qemu user must reach the overlays
    disks = new QemuImgDisks(dirname(image), join(dir, 'overlays'));
    await disks.ensureOverlay(VM, 0, image);
    // An isolated libvirt network of this run's own for the extra NIC (a bridge, no DHCP, no NAT).
    const netXml = join(dir, 'net.xml');
    writeFileSync(netXml, `<network><name>${NET}</name><bridge name='vl${run}' stp='off' delay='0'/></network>`);
    virsh('net-create', netXml);
    await hv.connect();
    desired = {
      name: VM, uuid: randomUUID(), type: hv.domainType(), memoryKiB: 128 * MiB, maxMemoryKiB: 256 * MiB, vcpus: 1, maxVcpus: 2,
      diskPaths: [disks.overlayPath(VM, 0, image)], mac: '52:54:00:1e:00:01', nic: { type: 'user' }, serialLog: true,
      owner: { uid: VM, namespace: 'default', name: VM, generation: 1, specHash: 'x', mac: '52:54:00:1e:00:01' },
    };
    log = wimaxvmSerialLog(VM);
    await hv.define(buildDomainXml(desired));
    await hv.start(VM);
    const t = Date.now();
    await log.waitForReady({ timeoutMs: 240_000 });
    figures.boot = `${Date.now() - t} ms to the ready line (domain type ${hv.domainType()})`;
  }, 300_000);

  afterAll(async () => {
    answers('virsh', '-c', 'qemu:///system', 'destroy', VM);
    answers('virsh', '-c', 'qemu:///system', 'undefine', VM);
    answers('virsh', '-c', 'qemu:///system', 'net-destroy', NET);
    await hv.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    rmSync(serialLogPath(VM), { force: true });
    console.log(`live changes (${VM}): ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  });

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

  it('the balloon: memory given and taken back within the maximum, MemTotal follows in the guest to the KiB', async () => {
    // Booted with the maximum (256Mi), the balloon takes it down to 128Mi.
    const booted = await settledMemTotal(128 * MiB);
    let t = Date.now();
    expect(await converge({ ...desired, memoryKiB: 224 * MiB })).toEqual(['setMemory']);
    const grown = await settledMemTotal(224 * MiB);
    figures.balloonUp = `${Date.now() - t} ms for MemTotal ${booted} → ${grown} kB (128Mi → 224Mi)`;
    expect(grown - booted).toBe(96 * MiB);
    t = Date.now();
    expect(await converge({ ...desired, memoryKiB: 160 * MiB })).toEqual(['setMemory']);
    const shrunk = await settledMemTotal(160 * MiB);
    figures.balloonDown = `${Date.now() - t} ms for MemTotal ${grown} → ${shrunk} kB (224Mi → 160Mi)`;
    expect(shrunk - grown).toBe(-64 * MiB);
    // The live facts read back the target wimaxvm set: nothing more to do.
    const live = parseDomainXml((await hv.getDomain(VM, true))!.liveXml!).facts;
    expect(live).toMatchObject({ memoryKiB: 160 * MiB, maxMemoryKiB: 256 * MiB });
    // Beyond the maximum the guest was started with: nothing live, a restart; libvirt refuses it too.
    expect(planLiveChanges({ desired: factsOf({ ...desired, memoryKiB: 512 * MiB, maxMemoryKiB: 512 * MiB }), live }))
      .toMatchObject({ operations: [], restartRequired: ['maxMemory', 'memory'] });
    await expect(hv.setMemory(VM, 257 * MiB, { live: true })).rejects.toThrow(/higher than max memory/);
  }, 150_000);

  it('a vCPU hot-plugged is seen online', async () => {
    const mark = log.size();
    const t = Date.now();
    expect(await converge({ ...desired, vcpus: 2 })).toEqual(['setVcpus']);
    await guestSees(mark, 'CPUs 0-1 online', (v) => v.cpus === '0-1');
    figures.vcpu = `${Date.now() - t} ms from setVcpus(2) to cpus=0-1 in the guest`;
    expect(virsh('vcpucount', VM, '--live', '--active').trim()).toBe('2');
  }, 90_000);

  it('a disk and a NIC hot-plugged appear in the guest (/sys/block/vdb, eth1) and go again when pulled', async () => {
    let mark = log.size();
    let t = Date.now();
    const second = disks.overlayPath(VM, 1, image);
    const plugged = { ...desired, diskPaths: [desired.diskPaths[0]!, second], extraNics: [{ mac: '52:54:00:1e:00:02', network: NET }] };
    expect(await converge(plugged)).toEqual(['attachDisk', 'attachNic']);
    await guestSees(mark, 'vdb and eth1', (v) => v.disks === 'vda,vdb,' && v.nics === 'eth0,eth1,');
    figures.plug = `${Date.now() - t} ms from attach to vdb and eth1 in the guest`;
    expect(virsh('domblklist', VM)).toContain(second);

    mark = log.size();
    t = Date.now();
    expect(await converge({ ...plugged, diskPaths: [desired.diskPaths[0]!], extraNics: [] })).toEqual(['detachDisk', 'detachNic']);
    await guestSees(mark, 'vdb and eth1 gone', (v) => v.disks === 'vda,' && v.nics === 'eth0,');
    figures.unplug = `${Date.now() - t} ms from detach to vdb and eth1 gone in the guest`;
    // libvirt may still be finishing the removal after the guest let go: the plan converges.
    await eventually(async () => {
      const live = parseDomainXml((await hv.getDomain(VM, true))!.liveXml!).facts;
      return planLiveChanges({ desired: factsOf(desired), live }).operations.length === 0;
    }, 'libvirt to show the devices gone', 30_000);
  }, 150_000);

  it('what libvirt says of the guest afterwards needs nothing more: the plan is empty, the guest ran on', async () => {
    const live = parseDomainXml((await hv.getDomain(VM, true))!.liveXml!).facts;
    expect(planLiveChanges({ desired: factsOf(desired), live })).toEqual({ operations: [], restartRequired: [], configOnly: [], waiting: false });
    // One boot all along: no second ready line.
    expect(log.text().match(/wimaxvm-guest ready/g)).toHaveLength(1);
    expect(basename(log.path)).toBe(`${VM}.serial`);
    expect(execFileSync('virsh', ['-c', 'qemu:///system', 'domstate', VM], { encoding: 'utf8' }).trim()).toBe('running');
  });
});
