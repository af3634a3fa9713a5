// The cloud-init seed on a real guest (qemu:///system, Open vSwitch), booted once: wimaxvm's VM
// reconcile (every step, the real libvirt, qemu-img and genisoimage adapters) for a VM with
// spec.cloudInit.hostname on an OVS slice, with the static address the pools area's
// guestAddressFor would give it (injected here as seedAddress: this branch has no pools). The tiny
// guest's stand-in for cloud-init (test/helpers/real-guest/nocloud.sh, not cloud-init) finds the
// volume labelled cidata, sets the seed's hostname and configures the seed's address on the NIC
// with the seed's MAC (no DHCP server on the slice); a host on the slice pings that address. The
// VM's deletion, through the deletion gate, takes the seed with the overlays.
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCondition } from '../../src/api/meta.js';
import type { VirtualMachine, VirtualMachineStatus } from '../../src/api/virtual-machine.js';
import { GenisoimageSeeds } from '../../src/adapters/genisoimage-seeds.js';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { QemuImgDisks } from '../../src/adapters/qemu-img-disks.js';
import { MacAllocator } from '../../src/allocators/mac-allocator.js';
import { VlanAllocator } from '../../src/allocators/vlan-allocator.js';
import { DeletionGate } from '../../src/core/deletion-gate.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { serialLogPath } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { VirtualMachineReconciler } from '../../src/reconcilers/virtual-machine/reconciler.js';
import { FakeEventRecorder } from '../fakes/fake-event-recorder.js';
import { FakeStatusStore } from '../fakes/fake-status-store.js';
import { FakeWitness, TEST_IDENTITY } from '../fakes/fake-witness.js';
import { eventually } from '../helpers/harness.js';
import { ovsTestsEnabled, OvsTestbed } from '../helpers/ovs-testbed.js';
import { ensureRealGuestDisk, GUEST_SAYS, REAL_GUEST_MEMORY, wimaxvmSerialLog } from '../helpers/real-guest/index.js';
import { answers, systemTestsEnabled } from '../helpers/system.js';

const enabled = systemTestsEnabled() && ovsTestsEnabled();
const run = Math.random().toString(36).slice(2, 7);
const VM = `seed-${run}`;
const KEY = `VirtualMachine/default/${VM}`;
const HOSTNAME = `box-${run}`;
const VLAN = 400 + Math.floor(Math.random() * 100);
/** On the testbed's slice subnet (10.77.0.0/24, where vmA is .11), away from its other addresses. */
const ADDRESS = `10.77.0.${60 + Math.floor(Math.random() * 100)}`;

describe.runIf(enabled)('a cloud-init seed on a real guest: hostname and static address from the CD-ROM', () => {
  let bed: OvsTestbed;
  let hv: LibvirtHypervisor;
  let base: string;
  let overlays: string;
  let reconciler: VirtualMachineReconciler;
  const store = new DesiredStore();
  const statuses = new FakeStatusStore();
  const figures: Record<string, string> = {};
  const status = () => statuses.get(KEY)?.status as VirtualMachineStatus | undefined;

  beforeAll(async () => {
    const disk = await ensureRealGuestDisk();
    bed = OvsTestbed.create({ vmTags: [VLAN, VLAN + 1] });
    base = mkdtempSync(join(tmpdir(), 'wimaxvm-seed-sys-'));
    chmodSync(base, 0o755); // libvirtd's qemu user reaches the overlay and the seed below it
    overlays = join(base, 'overlays');
    hv = new LibvirtHypervisor({ uri: 'qemu:///system', logger: silentLogger });
    await hv.connect();
    const witness = new FakeWitness();
    reconciler = new VirtualMachineReconciler({
      store, gate: new DeletionGate(store, () => witness, silentLogger), identity: TEST_IDENTITY,
      hypervisor: hv, disks: new QemuImgDisks(dirname(disk), overlays), seeds: new GenisoimageSeeds(overlays),
      // What the pools area's guestAddressFor gives a VM of a pool 10.77.0.0/24 with gateway vmA.
      seedAddress: (vm) => (vm.metadata.name === VM ? { address: ADDRESS, prefixLength: 24, gateway: bed.vmA.ip, dns: [bed.vmA.ip] } : undefined),
      statuses, events: new FakeEventRecorder(), macs: new MacAllocator(), vlans: new VlanAllocator(), logger: silentLogger,
      nic: { type: 'bridge', source: bed.bridge, openvswitch: true }, shutdownTimeoutMs: 30_000,
    });
    const vm: VirtualMachine = {
      apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
      metadata: { name: VM, namespace: 'default', uid: `uid-${VM}-0000-4000-8000-000000000000`, generation: 1, creationTimestamp: new Date().toISOString() },
      spec: { runStrategy: 'Always', memory: REAL_GUEST_MEMORY, vcpus: 1, disks: [{ image: basename(disk) }], network: { vlan: VLAN }, cloudInit: { hostname: HOSTNAME } },
    };
    store.set(KEY, vm);
  }, 300_000);

  afterAll(async () => {
    answers('virsh', '-c', 'qemu:///system', 'destroy', VM); // quietly: deleted by the test already
    answers('virsh', '-c', 'qemu:///system', 'undefine', VM);
    await hv?.close();
    bed?.dispose();
    if (base) rmSync(base, { recursive: true, force: true });
    rmSync(serialLogPath(VM), { force: true });
    console.log(`seed guest (${VM}): ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  });

  it('the guest finds the seed CD-ROM, takes its hostname and configures its address instead of asking DHCP', async () => {
    const log = wimaxvmSerialLog(VM);
    const started = Date.now();
    await reconciler.reconcile(KEY);
    expect(status()?.printableStatus).toBe('Running');
    expect(findCondition(status()!.conditions, 'SeedReady')).toMatchObject({ status: 'True', reason: 'SeedBuilt' });
    // The hostname line, or the guest's word that it found no seed (a failure, said at once).
    const first = await log.waitFor(new RegExp(`${GUEST_SAYS.seedHostname.source}|${GUEST_SAYS.seedError.source}`), 'seed hostname line', { timeoutMs: 240_000 });
    expect(first[0]).toBe(`wimaxvm-guest seed hostname ${HOSTNAME}`);
    const [, nic, address, prefix, gateway] = await log.waitFor(GUEST_SAYS.seedAddress, 'seed address line', { timeoutMs: 30_000 });
    expect({ nic, address, prefix, gateway }).toEqual({ nic: 'eth0', address: ADDRESS, prefix: '24', gateway: bed.vmA.ip });
    await log.waitForReady({ timeoutMs: 30_000 });
    figures.boot = `${Date.now() - started} ms from the reconcile to the ready line`;
    expect(log.text()).not.toMatch(GUEST_SAYS.seedError);
    expect(log.text()).not.toMatch(GUEST_SAYS.dhcp);
  }, 330_000);

  it('a host on the slice pings the guest at the seed\'s address', async () => {
    await eventually(() => bed.ping(bed.vmA.ns, ADDRESS, 1), `a ping from ${bed.vmA.ns} to ${ADDRESS}`, 60_000);
  }, 90_000);

  it('deleting the VM (through the deletion gate) removes the domain and, with its overlays, the seed', async () => {
    const folder = join(overlays, VM);
    expect(existsSync(join(folder, 'cidata.iso'))).toBe(true);
    store.delete(KEY);
    const asked = Date.now();
    // The guest powers off on the ACPI request; each reconcile looks again, as the requeue would.
    await eventually(async () => { await reconciler.reconcile(KEY); return (await hv.getDomain(VM, true)) === undefined; }, `${VM} undefined`, 60_000);
    figures.delete = `${Date.now() - asked} ms from the deletion to the domain undefined`;
    expect(existsSync(folder)).toBe(false);
  }, 90_000);
});
