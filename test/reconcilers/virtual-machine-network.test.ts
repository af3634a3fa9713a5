// The VM reconciler's slice networking over fakes: VLAN allocation, the VM's switch port (tag and
// slice rates), VLAN changes without restarts, drift on the port, conflicts and exhaustion.
import { describe, expect, it } from 'vitest';
import { findCondition } from '../../src/api/meta.js';
import type { VirtualMachine, VirtualMachineSpec, VirtualMachineStatus } from '../../src/api/virtual-machine.js';
import { MacAllocator } from '../../src/allocators/mac-allocator.js';
import { VlanAllocator, type VlanRange } from '../../src/allocators/vlan-allocator.js';
import { InProcessVlanClaims } from '../../src/adapters/in-process-vlan-claims.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { parseDomainXml, vmPortName } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { VirtualMachineReconciler } from '../../src/reconcilers/virtual-machine/reconciler.js';
import { FakeDatapath } from '../fakes/fake-datapath.js';
import { FakeDiskImages } from '../fakes/fake-disk-images.js';
import { FakeEventRecorder } from '../fakes/fake-event-recorder.js';
import { FakeHypervisor } from '../fakes/fake-hypervisor.js';
import { FakeStatusStore } from '../fakes/fake-status-store.js';
import { DeletionGate } from '../../src/core/deletion-gate.js';
import { FakeWitness, TEST_IDENTITY } from '../fakes/fake-witness.js';

function setup(range?: VlanRange) {
  const hv = new FakeHypervisor();
  const datapath = new FakeDatapath();
  const statuses = new FakeStatusStore();
  const store = new DesiredStore();
  const vlans = new VlanAllocator(range);
  // The testbed-wide registry, which other controllers share.
  const claims = new InProcessVlanClaims();
  let shaping = true;
  const requeued: string[] = [];
  const reconciler = new VirtualMachineReconciler({
    gate: new DeletionGate(store, () => new FakeWitness(), silentLogger), identity: TEST_IDENTITY,
    store, hypervisor: hv, datapath, statuses, vlans, vlanClaims: claims, disks: new FakeDiskImages(), events: new FakeEventRecorder(), macs: new MacAllocator(),
    logger: silentLogger, nic: { type: 'bridge', source: 'wxbr', openvswitch: true }, shutdownTimeoutMs: 1000,
    shapingEnabled: () => shaping,
    requeue: (key) => requeued.push(key),
  });
  const put = (name: string, spec: Partial<VirtualMachineSpec> = {}, generation = 1): void => {
    store.set(`VirtualMachine/default/${name}`, {
      apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
      metadata: { name, namespace: 'default', uid: `uid-${name}`, generation, creationTimestamp: 'x' },
      spec: { runStrategy: 'Always', memory: '64Mi', vcpus: 1, ...spec },
    } satisfies VirtualMachine);
  };
  // The fake hypervisor does not plug ports: a started guest's port shows up on the bridge as libvirt would add it.
  const reconcile = async (name: string) => {
    const r = await reconciler.reconcile(`VirtualMachine/default/${name}`);
    const port = vmPortName(name);
    if ((await hv.getDomain(name))?.state === 'running' && !datapath.ports.has(port)) {
      const tag = parseDomainXml((await hv.getDomain(name))!.liveXml!).facts.nics[0]!.vlan;
      datapath.plug(port, tag !== undefined ? { tag } : {});
      return reconciler.reconcile(`VirtualMachine/default/${name}`);
    }
    return r;
  };
  const status = (name: string) => statuses.get(`VirtualMachine/default/${name}`)?.status as VirtualMachineStatus | undefined;
  const remove = (name: string) => store.delete(`VirtualMachine/default/${name}`);
  const claimOf = (vlan: number) => claims.list().find((c) => c.vlan === vlan)?.holderKey;
  return { hv, datapath, vlans, claims, claimOf, requeued, put, remove, reconcile, status, setShaping: (on: boolean) => { shaping = on; } };
}

describe('slice networking of a VM on Open vSwitch', () => {
  it('allocates a VLAN, puts it and the fixed port name in the domain, and tags the port', async () => {
    const t = setup();
    t.put('vm30');
    await t.reconcile('vm30');
    const s = t.status('vm30')!;
    expect(s.allocations.vlan).toBe(2);
    const nic = parseDomainXml((await t.hv.getDomain('vm30'))!.persistentXml).facts.nics[0]!;
    expect(nic).toMatchObject({ type: 'bridge', source: 'wxbr', vlan: 2, port: vmPortName('vm30') });
    expect(t.datapath.ports.get(vmPortName('vm30'))).toEqual({ tag: 2 });
    expect(s.domain!.port).toBe(vmPortName('vm30'));
  });

  it('slice rates go on the switch; shaping off clears them; stopping or deleting the VM removes them', async () => {
    const t = setup();
    t.put('vm30', { network: { shaping: { downlink: '20Mbit', uplink: '10Mbit' } } });
    await t.reconcile('vm30');
    expect(t.datapath.slices.get(2)).toEqual({ vlan: 2, vmPort: vmPortName('vm30'), downlinkKbps: 20000, uplinkKbps: 10000 });
    expect(t.status('vm30')!.shaping).toEqual({ downlinkKbps: 20000, uplinkKbps: 10000 });
    t.setShaping(false);
    await t.reconcile('vm30');
    expect(t.datapath.slices.size).toBe(0);
    expect(t.status('vm30')!.shaping).toBeUndefined();
    t.setShaping(true);
    await t.reconcile('vm30');
    expect(t.datapath.slices.size).toBe(1);
    t.put('vm30', { runStrategy: 'Halted', network: { shaping: { downlink: '20Mbit', uplink: '10Mbit' } } }, 2);
    await t.reconcile('vm30');
    await t.reconcile('vm30');
    expect((await t.hv.getDomain('vm30'))!.state).toBe('shutoff');
    expect(t.datapath.slices.size).toBe(0);
  });

  it('a VLAN change moves the slice rates to the new VLAN', async () => {
    const t = setup();
    t.put('vm30', { network: { vlan: 7, shaping: { downlink: '5Mbit' } } });
    await t.reconcile('vm30');
    t.put('vm30', { network: { vlan: 8, shaping: { downlink: '5Mbit' } } }, 2);
    await t.reconcile('vm30');
    expect([...t.datapath.slices.keys()]).toEqual([8]);
  });

  it('a VLAN change on a running guest: new definition, port retagged, no restart', async () => {
    const t = setup();
    t.put('vm30', { network: { vlan: 7 } });
    await t.reconcile('vm30');
    const id = (await t.hv.getDomain('vm30'))!.id;
    t.hv.calls.length = 0;
    t.put('vm30', { network: { vlan: 9 } }, 2);
    await t.reconcile('vm30');
    expect(t.hv.calls.map((c) => c.op)).toEqual(['define']);
    expect((await t.hv.getDomain('vm30'))!.id).toBe(id);
    expect(t.datapath.ports.get(vmPortName('vm30'))!.tag).toBe(9);
    expect(t.status('vm30')!.allocations.vlan).toBe(9);
    expect(t.vlans.holder(7)).toBeUndefined();
  });

  it('a VLAN is claimed testbed-wide before the domain carries it; the old one goes back once the port is retagged', async () => {
    const t = setup();
    t.put('vm30', { network: { vlan: 7 } });
    await t.reconcile('vm30');
    expect(t.claimOf(7)).toBe('VirtualMachine/default/vm30');
    t.put('vm30', { network: { vlan: 9 } }, 2);
    await t.reconcile('vm30');
    expect(t.datapath.ports.get(vmPortName('vm30'))!.tag).toBe(9);
    expect(t.claimOf(9)).toBe('VirtualMachine/default/vm30');
    expect(t.claimOf(7)).toBeUndefined();
  });

  it('a VLAN another controller holds: VLANConflict naming its VM, never attached untagged; it runs once the holder lets go', async () => {
    const t = setup();
    await t.claims.claim(7, 'VirtualMachine/lab/elsewhere', 'uid-elsewhere', true);
    t.put('b', { network: { vlan: 7 } });
    await t.reconcile('b');
    expect(findCondition(t.status('b')!.conditions, 'VLANAssigned')).toMatchObject({ reason: 'VLANConflict', message: 'VLAN 7 is held by lab/elsewhere' });
    expect(findCondition(t.status('b')!.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'VLANConflict' });
    expect(await t.hv.getDomain('b')).toBeUndefined();
    expect(t.vlans.holder(7)).toBeUndefined();
    await t.claims.release(7, 'uid-elsewhere');
    await t.reconcile('b');
    expect(t.status('b')!.printableStatus).toBe('Running');
    expect(t.claimOf(7)).toBe('VirtualMachine/default/b');
  });

  it('automatic allocation skips VLANs claimed elsewhere; deleting the VM gives its VLAN back', async () => {
    const t = setup();
    await t.claims.claim(2, 'VirtualMachine/lab/elsewhere', 'uid-elsewhere');
    t.put('vm30');
    await t.reconcile('vm30');
    expect(t.status('vm30')!.allocations.vlan).toBe(3);
    t.remove('vm30');
    for (let i = 0; i < 5 && (await t.hv.getDomain('vm30', true)); i++) await t.reconcile('vm30');
    expect(await t.hv.getDomain('vm30', true)).toBeUndefined();
    expect(t.claimOf(3)).toBeUndefined();
    expect(t.claimOf(2)).toBe('VirtualMachine/lab/elsewhere');
  });

  it('a spec that can never run (memory too large) claims no VLAN from the shared range', async () => {
    const t = setup();
    t.put('bad', { memory: '99999999999999999999999Mi' });
    await t.reconcile('bad');
    expect(findCondition(t.status('bad')!.conditions, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidMemory' });
    expect(t.claims.list()).toEqual([]);
    expect(t.vlans.get('VirtualMachine/default/bad')).toBeUndefined();
  });

  it('a port tag changed by hand is put back', async () => {
    const t = setup();
    t.put('vm30', { network: { vlan: 7 } });
    await t.reconcile('vm30');
    t.datapath.ports.set(vmPortName('vm30'), { tag: 100 });
    await t.reconcile('vm30');
    expect(t.datapath.ports.get(vmPortName('vm30'))!.tag).toBe(7);
  });

  it('an explicit VLAN another VM holds: VLANConflict, and the VM is not attached untagged', async () => {
    const t = setup();
    t.put('a', { network: { vlan: 7 } });
    await t.reconcile('a');
    t.put('b', { network: { vlan: 7 } });
    const r = await t.reconcile('b');
    expect(t.status('b')!.printableStatus).toBe('Pending');
    expect(findCondition(t.status('b')!.conditions, 'VLANAssigned')).toMatchObject({ status: 'False', reason: 'VLANConflict', message: 'VLAN 7 is held by default/a' });
    expect(await t.hv.getDomain('b')).toBeUndefined();
    expect(r.requeueAfterMs).toBeGreaterThan(0);
  });

  /** No two VM ports carry one tag, ever (two slices on one VLAN). */
  const tagsDistinct = (t: ReturnType<typeof setup>) => {
    const tags = [...t.datapath.ports.values()].map((p) => p.tag);
    expect(new Set(tags).size).toBe(tags.length);
  };

  it('an explicit VLAN an automatic VM runs on: that VM moves (port retagged, no restart), then the VM that names it gets it', async () => {
    const t = setup({ min: 2, max: 10 });
    t.put('auto');
    await t.reconcile('auto');
    expect(t.status('auto')!.allocations.vlan).toBe(2);
    const before = await t.hv.getDomain('auto');
    t.put('named', { network: { vlan: 2 } });
    await t.reconcile('named');
    expect(t.status('named')!.printableStatus).toBe('Pending');
    expect(findCondition(t.status('named')!.conditions, 'VLANAssigned')).toMatchObject({ status: 'False', reason: 'VLANReclaiming' });
    // Waiting for the holder is progress, not a stall.
    expect(findCondition(t.status('named')!.conditions, 'Stalled')).toBeUndefined();
    expect(t.requeued).toEqual(['VirtualMachine/default/auto']);
    await t.reconcile('auto');
    tagsDistinct(t);
    expect(t.datapath.ports.get(vmPortName('auto'))!.tag).toBe(3);
    expect(t.status('auto')!.allocations.vlan).toBe(3);
    const after = await t.hv.getDomain('auto');
    expect([after!.id, after!.state]).toEqual([before!.id, 'running']);
    await t.reconcile('named');
    tagsDistinct(t);
    expect(t.status('named')!.printableStatus).toBe('Running');
    expect(t.datapath.ports.get(vmPortName('named'))!.tag).toBe(2);
    expect(t.claimOf(2)).toBe('VirtualMachine/default/named');
    expect(findCondition(t.status('named')!.conditions, 'VLANAssigned')).toBeUndefined();
  });

  it('two running VMs swapping their explicit VLANs converge without a restart, never on one VLAN together', async () => {
    const t = setup({ min: 2, max: 10 });
    t.put('x', { network: { vlan: 7 } });
    t.put('y', { network: { vlan: 8 } });
    await t.reconcile('x');
    await t.reconcile('y');
    const ids = [(await t.hv.getDomain('x'))!.id, (await t.hv.getDomain('y'))!.id];
    t.put('x', { network: { vlan: 8 } }, 2);
    t.put('y', { network: { vlan: 7 } }, 2);
    for (let round = 0; round < 4 && (t.status('x')?.allocations.vlan !== 8 || t.status('y')?.allocations.vlan !== 7); round++) {
      for (const name of ['x', 'y']) {
        await t.reconcile(name);
        tagsDistinct(t);
      }
    }
    expect([t.datapath.ports.get(vmPortName('x'))!.tag, t.datapath.ports.get(vmPortName('y'))!.tag]).toEqual([8, 7]);
    expect([t.status('x')!.printableStatus, t.status('y')!.printableStatus]).toEqual(['Running', 'Running']);
    expect([(await t.hv.getDomain('x'))!.id, (await t.hv.getDomain('y'))!.id]).toEqual(ids);
    expect([t.claimOf(8), t.claimOf(7)]).toEqual(['VirtualMachine/default/x', 'VirtualMachine/default/y']);
    expect(t.claims.list()).toHaveLength(2);
  });

  it('an exhausted range: Pending VLANRangeExhausted; freeing a VLAN lets the VM start', async () => {
    const t = setup({ min: 10, max: 10 });
    t.put('a');
    await t.reconcile('a');
    t.put('b');
    await t.reconcile('b');
    expect(findCondition(t.status('b')!.conditions, 'VLANAssigned')!.reason).toBe('VLANRangeExhausted');
    t.remove('a');
    // Deleted: shut down, undefined, and its VLAN goes back.
    for (let i = 0; i < 5 && (await t.hv.getDomain('a', true)); i++) await t.reconcile('a');
    expect(await t.hv.getDomain('a', true)).toBeUndefined();
    await t.reconcile('b');
    expect(t.status('b')!.allocations.vlan).toBe(10);
    expect(t.status('b')!.printableStatus).toBe('Running');
    expect(findCondition(t.status('b')!.conditions, 'VLANAssigned')).toBeUndefined();
  });

  it('status and metadata keep the VLAN, so it survives a controller restart', async () => {
    const t = setup();
    t.put('vm30');
    await t.reconcile('vm30');
    const owner = parseDomainXml((await t.hv.getDomain('vm30'))!.persistentXml).owner!;
    expect(owner.vlan).toBe(2);
  });
});

/** A reconciler with a user-mode NIC (no switch) over fresh fakes. */
function plainReconciler() {
  const hv = new FakeHypervisor();
  const store = new DesiredStore();
  const statuses = new FakeStatusStore();
  const r = new VirtualMachineReconciler({
    gate: new DeletionGate(store, () => new FakeWitness(), silentLogger), identity: TEST_IDENTITY,
    store, hypervisor: hv, statuses, vlans: new VlanAllocator(), disks: new FakeDiskImages(), events: new FakeEventRecorder(), macs: new MacAllocator(),
    logger: silentLogger, nic: { type: 'user' }, shutdownTimeoutMs: 1000,
  });
  return { hv, store, statuses, r };
}

describe('a requested restart (wimaxvm.io/restartedAt)', () => {
  function vmWith(annotation: string | undefined, runStrategy: 'Always' | 'Manual' = 'Always'): VirtualMachine {
    return {
      apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
      metadata: { name: 'r1', namespace: 'default', uid: 'uid-r1', generation: 1, creationTimestamp: 'x', ...(annotation ? { annotations: { 'wimaxvm.io/restartedAt': annotation } } : {}) },
      spec: { runStrategy, memory: '64Mi', vcpus: 1 },
    };
  }

  it.each(['Always', 'Manual'] as const)('restarts a running %s guest gracefully, once per annotation value', async (runStrategy) => {
    const { hv, store, statuses, r } = plainReconciler();
    const key = 'VirtualMachine/default/r1';
    store.set(key, vmWith(undefined, runStrategy));
    await r.reconcile(key);
    if (runStrategy === 'Manual') await hv.start('r1');
    const id = (await hv.getDomain('r1'))!.id;
    hv.calls.length = 0;
    store.set(key, vmWith('2026-11-21T10:00:00Z', runStrategy));
    await r.reconcile(key); // writes the request into the domain, asks the guest to shut down
    await r.reconcile(key); // it did: start again
    expect(hv.calls.map((c) => c.op)).toEqual(['define', 'shutdown', 'start']);
    expect((await hv.getDomain('r1'))!.id).not.toBe(id);
    expect((statuses.get(key)!.status as VirtualMachineStatus).restartedAt).toBe('2026-11-21T10:00:00Z');
    expect(parseDomainXml((await hv.getDomain('r1'))!.persistentXml).owner!.restartedAt).toBe('2026-11-21T10:00:00Z');
    hv.calls.length = 0;
    await r.reconcile(key);
    expect(hv.calls).toEqual([]); // the same value is not acted on twice
    await statuses.remove(key); // the state store lost: the domain remembers the request served
    await r.reconcile(key);
    expect(hv.calls).toEqual([]);
  });
});

describe('deleting while libvirt is unreachable', () => {
  it('keeps the status with a CleanupBlocked condition; cleans up once libvirt is back', async () => {
    const { hv, store, statuses, r } = plainReconciler();
    const key = 'VirtualMachine/default/gone';
    store.set(key, { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'gone', namespace: 'default', uid: 'u', generation: 1, creationTimestamp: 'x' }, spec: { runStrategy: 'Halted', memory: '64Mi', vcpus: 1 } });
    await r.reconcile(key);
    store.delete(key);
    hv.unavailable = true;
    await expect(r.reconcile(key)).rejects.toThrow(/unavailable|not connected|lost/i);
    const status = statuses.get(key)!.status as VirtualMachineStatus;
    expect(status.printableStatus).toBe('Terminating');
    expect(findCondition(status.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'CleanupBlocked' });
    hv.unavailable = false;
    await r.reconcile(key);
    expect(await hv.getDomain('gone')).toBeUndefined();
    expect(statuses.get(key)).toBeUndefined();
  });
});
