// VirtualMachineReconciler driven directly over in-memory fakes: the actions it takes on the
// hypervisor and the status it writes, for each run strategy, drift, deletion and failure.
import { VlanAllocator } from '../../src/allocators/vlan-allocator.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { findCondition, type Condition } from '../../src/api/meta.js';
import type { RunStrategy, VirtualMachine, VirtualMachineSpec, VirtualMachineStatus } from '../../src/api/virtual-machine.js';
import { MacAllocator } from '../../src/allocators/mac-allocator.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import { HypervisorUnavailableError } from '../../src/ports/hypervisor.js';
import { parseDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { STOP_POLL_MS } from '../../src/reconcilers/virtual-machine/plan.js';
import { domainUuidFor, VirtualMachineReconciler } from '../../src/reconcilers/virtual-machine/reconciler.js';
import { FakeDiskImages } from '../fakes/fake-disk-images.js';
import { FakeEventRecorder } from '../fakes/fake-event-recorder.js';
import { FakeHypervisor } from '../fakes/fake-hypervisor.js';
import { FakeStatusStore } from '../fakes/fake-status-store.js';
import { DeletionGate } from '../../src/core/deletion-gate.js';
import { FakeWitness, TEST_IDENTITY } from '../fakes/fake-witness.js';

const SHUTDOWN_TIMEOUT_MS = 30_000;
const T0 = Date.parse('2025-03-01T12:00:00.000Z');

function keyOf(name: string): string {
  return `VirtualMachine/default/${name}`;
}

function harness() {
  const journal: string[] = [];
  const hv = new FakeHypervisor({ journal });
  const disks = new FakeDiskImages({ journal });
  const statuses = new FakeStatusStore();
  const events = new FakeEventRecorder();
  const store = new DesiredStore();
  const macs = new MacAllocator();
  let nowMs = T0;
  const witness = new FakeWitness();
  const gate = new DeletionGate(store, () => witness, silentLogger);
  const logs: { level: string; msg: string; key?: string; reason?: string }[] = [];
  const reconciler = new VirtualMachineReconciler({
    gate, identity: TEST_IDENTITY,
    store, hypervisor: hv, disks, statuses, events, macs, vlans: new VlanAllocator(),
    logger: createLogger({ level: 'debug', format: 'json', write: (line) => logs.push(JSON.parse(line)) }),
    nic: { type: 'user' },
    shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
    now: () => nowMs,
  });

  const h = {
    journal, hv, disks, statuses, events, store, macs, reconciler, witness, gate, logs,
    advance(ms: number): void {
      nowMs += ms;
    },
    /** Declares (or replaces) a VM; replacing it bumps the generation when the spec changed. */
    put(name: string, spec: Partial<VirtualMachineSpec> & { runStrategy: RunStrategy }): VirtualMachine {
      const existing = store.get<VirtualMachine>(keyOf(name));
      const fullSpec: VirtualMachineSpec = { memory: '256Mi', vcpus: 1, ...spec };
      const changed = existing && JSON.stringify(existing.spec) !== JSON.stringify(fullSpec);
      const vm: VirtualMachine = {
        apiVersion: 'wimaxvm.io/v1alpha1',
        kind: 'VirtualMachine',
        metadata: {
          name,
          namespace: 'default',
          uid: existing?.metadata.uid ?? `uid-${name}-0000-4000-8000-000000000000`,
          generation: existing ? existing.metadata.generation + (changed ? 1 : 0) : 1,
          creationTimestamp: existing?.metadata.creationTimestamp ?? new Date(T0).toISOString(),
        },
        spec: fullSpec,
      };
      store.set(keyOf(name), vm);
      return vm;
    },
    reconcile(name: string) {
      return reconciler.reconcile(keyOf(name));
    },
    status(name: string): VirtualMachineStatus | undefined {
      return statuses.get(keyOf(name))?.status as VirtualMachineStatus | undefined;
    },
    condition(name: string, type: string): Condition | undefined {
      return findCondition(h.status(name)?.conditions, type);
    },
    /** Clears what the fakes recorded, to look at the next reconcile alone. */
    reset(): void {
      hv.clearCalls();
      disks.calls.length = 0;
      journal.length = 0;
      events.clear();
      statuses.writes = 0;
      statuses.removes = 0;
    },
  };
  return h;
}

type Harness = ReturnType<typeof harness>;

/** A VM declared and converged to a running guest, with the recordings cleared. */
async function running(h: Harness, name: string, runStrategy: RunStrategy = 'Always', spec: Partial<VirtualMachineSpec> = {}): Promise<void> {
  h.put(name, { runStrategy, ...spec });
  await h.reconcile(name);
  expect(h.hv.peek(name)?.state).toBe('running');
  h.reset();
}

const FOREIGN_XML = (name: string) => `<domain type="test">
  <name>${name}</name>
  <uuid>0b6f1e9c-5d0e-4a57-9d8e-3f0a4c1b2d3e</uuid>
  <memory unit="KiB">524288</memory>
  <vcpu>2</vcpu>
  <os><type arch="x86_64">hvm</type></os>
  <devices><interface type="user"><mac address="52:54:00:11:22:33"/></interface></devices>
</domain>`;

let h: Harness;
beforeEach(() => {
  h = harness();
});

describe('a new VirtualMachine', () => {
  it('Always: defines and starts the domain, reports Running/Ready, and allocates a MAC', async () => {
    h.put('vm1', { runStrategy: 'Always' });
    const result = await h.reconcile('vm1');

    expect(result).toEqual({});
    expect(h.hv.calls).toEqual([{ op: 'define', name: 'vm1' }, { op: 'start', name: 'vm1' }]);
    const st = h.status('vm1')!;
    expect(st.printableStatus).toBe('Running');
    expect(st.observedGeneration).toBe(1);
    expect(st.startedOnce).toBe(true);
    expect(st.domain).toMatchObject({ name: 'vm1', state: 'running', uuid: domainUuidFor('uid-vm1-0000-4000-8000-000000000000') });
    expect(st.domain?.id).toEqual(expect.any(Number));
    expect(st.domain?.vncPort).toBe(5900 + st.domain!.id!);
    expect(h.condition('vm1', 'Ready')).toMatchObject({ status: 'True', reason: 'Running', observedGeneration: 1 });
    expect(h.condition('vm1', 'Stalled')).toBeUndefined();
    expect(st.allocations.mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(h.macs.get(keyOf('vm1'))).toBe(st.allocations.mac);
    expect(h.statuses.writes).toBe(1);

    // The domain carries the resource's ownership mark and the allocated MAC.
    const parsed = parseDomainXml(h.hv.peek('vm1')!.persistentXml);
    expect(parsed.owner).toMatchObject({ name: 'vm1', namespace: 'default', uid: 'uid-vm1-0000-4000-8000-000000000000', generation: 1, mac: st.allocations.mac });
    expect(parsed.facts).toMatchObject({ memoryKiB: 256 * 1024, vcpus: 1, nics: [{ mac: st.allocations.mac, type: 'user' }] });
    expect(h.events.reasons()).toEqual(['Defined', 'Started']);
  });

  it('Always: a second reconcile is a no-op: no mutating call, no status write, same MAC', async () => {
    h.put('vm1', { runStrategy: 'Always' });
    await h.reconcile('vm1');
    const mac = h.status('vm1')!.allocations.mac;
    const statusBefore = structuredClone(h.status('vm1'));
    h.reset();
    h.advance(5_000);

    expect(await h.reconcile('vm1')).toEqual({});
    expect(h.hv.calls).toEqual([]);
    expect(h.statuses.writes).toBe(0);
    expect(h.status('vm1')).toEqual(statusBefore);
    expect(h.status('vm1')!.allocations.mac).toBe(mac);
    expect(h.macs.get(keyOf('vm1'))).toBe(mac);
  });

  it('keeps the MAC stable when the allocator is rebuilt empty (status is the memory)', async () => {
    h.put('vm1', { runStrategy: 'Always' });
    await h.reconcile('vm1');
    const mac = h.status('vm1')!.allocations.mac!;
    h.macs.release(keyOf('vm1'));
    h.reset();

    await h.reconcile('vm1');
    expect(h.macs.get(keyOf('vm1'))).toBe(mac);
    expect(h.hv.calls).toEqual([]);
  });

  it('gives two VMs different MACs', async () => {
    h.put('vm1', { runStrategy: 'Halted' });
    h.put('vm2', { runStrategy: 'Halted' });
    await h.reconcile('vm1');
    await h.reconcile('vm2');
    expect(h.status('vm1')!.allocations.mac).toBeDefined();
    expect(h.status('vm1')!.allocations.mac).not.toBe(h.status('vm2')!.allocations.mac);
  });
});

describe('runStrategy Halted', () => {
  it('defines the domain only and reports Stopped', async () => {
    h.put('vm1', { runStrategy: 'Halted' });
    await h.reconcile('vm1');

    expect(h.hv.ops()).toEqual(['define']);
    expect(h.hv.peek('vm1')?.state).toBe('shutoff');
    expect(h.status('vm1')!.printableStatus).toBe('Stopped');
    expect(h.status('vm1')!.startedOnce).toBeUndefined();
    expect(h.condition('vm1', 'Ready')).toMatchObject({ status: 'True', reason: 'Stopped' });

    h.reset();
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.statuses.writes).toBe(0);
  });

  it('switching a running VM to Halted shuts it down gracefully; a guest off at once is Stopped in the same reconcile, no second look', async () => {
    await running(h, 'vm1');
    h.put('vm1', { runStrategy: 'Halted' });

    const result = await h.reconcile('vm1');
    expect(h.hv.ops().filter((op) => op !== 'define')).toEqual(['shutdown']);
    expect(h.hv.ops()).not.toContain('destroy');
    expect(result).toEqual({});
    expect(h.status('vm1')!.printableStatus).toBe('Stopped');
    expect(h.status('vm1')!.observedGeneration).toBe(2);
    expect(h.condition('vm1', 'Ready')).toMatchObject({ status: 'True', reason: 'Stopped', observedGeneration: 2 });

    h.reset();
    expect(await h.reconcile('vm1')).toEqual({});
    expect(h.hv.ops()).toEqual([]);
    expect(h.status('vm1')!.printableStatus).toBe('Stopped');
  });

  it('switching a running VM to Halted: a guest still up after the ACPI request is Stopping (requeued within STOP_POLL_MS), then Stopped', async () => {
    await running(h, 'vm1');
    h.hv.ignoreShutdown.add('vm1');
    h.put('vm1', { runStrategy: 'Halted' });

    const result = await h.reconcile('vm1');
    expect(h.hv.ops().filter((op) => op !== 'define')).toEqual(['shutdown']);
    expect(result.requeueAfterMs).toBeGreaterThan(0);
    expect(result.requeueAfterMs).toBeLessThanOrEqual(STOP_POLL_MS);
    expect(h.status('vm1')!.printableStatus).toBe('Stopping');
    expect(h.condition('vm1', 'Ready')?.status).toBe('False');

    // The guest goes down by itself before the timeout: the next look says Stopped, nothing forced.
    h.hv.ignoreShutdown.delete('vm1');
    await h.hv.shutdown('vm1');
    h.reset();
    h.advance(result.requeueAfterMs!);
    expect(await h.reconcile('vm1')).toEqual({});
    expect(h.hv.ops()).toEqual([]);
    expect(h.status('vm1')!.printableStatus).toBe('Stopped');
    expect(h.condition('vm1', 'Ready')).toMatchObject({ status: 'True', reason: 'Stopped', observedGeneration: 2 });
  });

  it('destroys a guest that ignores ACPI once shutdownTimeoutMs has passed, not before', async () => {
    await running(h, 'vm1');
    h.hv.ignoreShutdown.add('vm1');
    h.put('vm1', { runStrategy: 'Halted' });

    const first = await h.reconcile('vm1');
    expect(h.hv.ops().filter((op) => op !== 'define')).toEqual(['shutdown']);
    expect(first.requeueAfterMs).toBeGreaterThan(0);
    expect(h.hv.peek('vm1')?.state).toBe('running');
    expect(h.status('vm1')!.printableStatus).toBe('Stopping');

    // Still inside the timeout: wait, do not ask again, do not force.
    h.reset();
    h.advance(SHUTDOWN_TIMEOUT_MS - 1_000);
    const waiting = await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(waiting.requeueAfterMs).toBeGreaterThan(0);
    expect(waiting.requeueAfterMs).toBeLessThanOrEqual(1_000);
    expect(h.status('vm1')!.printableStatus).toBe('Stopping');

    h.advance(1_000);
    const forced = await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['destroy']);
    expect(forced).toEqual({});
    expect(h.hv.peek('vm1')?.state).toBe('shutoff');
    expect(h.status('vm1')!.printableStatus).toBe('Stopped');

    h.reset();
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
  });
});

describe('a restart waiting on a guest without an OS (issue 16)', () => {
  it('says once what it waits for and when it will power off, in the log and in the Ready condition', async () => {
    await running(h, 'vm1');
    h.hv.ignoreShutdown.add('vm1');
    h.put('vm1', { runStrategy: 'Always', memory: '512Mi' });
    const asked = await h.reconcile('vm1');
    const deadline = new Date(T0 + SHUTDOWN_TIMEOUT_MS).toISOString();
    expect(h.status('vm1')!.printableStatus).toBe('Stopping');
    expect(h.condition('vm1', 'Ready')!.message).toBe(`asked vm1 to shut down (ACPI); waiting up to 30s, will power off at ${deadline} if it has not by then`);
    const waiting = `waiting up to 30s for vm1 to shut down (guest has not acted on ACPI shutdown); will power off at ${deadline}`;
    expect(h.logs.filter((l) => l.msg === waiting)).toEqual([]);
    for (let i = 0; i < 5; i++) {
      h.advance(asked.requeueAfterMs!);
      await h.reconcile('vm1');
    }
    expect(h.logs.filter((l) => l.msg === waiting)).toEqual([expect.objectContaining({ level: 'info', key: keyOf('vm1') })]);
    expect(h.status('vm1')!.printableStatus).toBe('Stopping');
    expect(h.condition('vm1', 'Ready')).toMatchObject({ status: 'False', reason: 'Stopping', message: waiting });
    h.advance(SHUTDOWN_TIMEOUT_MS);
    await h.reconcile('vm1');
    expect(h.status('vm1')!.printableStatus).toBe('Running');
    expect(h.condition('vm1', 'Ready')!.message).not.toContain('waiting');
    // The next restart is said again.
    h.put('vm1', { runStrategy: 'Always', memory: '256Mi' });
    await h.reconcile('vm1');
    h.advance(asked.requeueAfterMs!);
    await h.reconcile('vm1');
    expect(h.logs.filter((l) => /waiting up to 30s for vm1/.test(l.msg))).toHaveLength(2);
  });
});

describe('stop, then start again before the guest went down (issue 16)', () => {
  it('a guest that ignores ACPI is never powered off: it keeps running, Running again at once', async () => {
    await running(h, 'vm1');
    const id = h.hv.peek('vm1')!.id;
    h.hv.ignoreShutdown.add('vm1');
    h.put('vm1', { runStrategy: 'Halted' });
    await h.reconcile('vm1');
    expect(h.status('vm1')!.printableStatus).toBe('Stopping');
    h.advance(1_000);
    h.put('vm1', { runStrategy: 'Always' });
    h.reset();
    await h.reconcile('vm1');
    expect(h.status('vm1')!.printableStatus).toBe('Running');
    // Past the shutdown timeout: still nothing forced.
    h.advance(SHUTDOWN_TIMEOUT_MS * 2);
    expect(await h.reconcile('vm1')).toEqual({});
    await h.reconcile('vm1');
    expect(h.hv.ops()).not.toContain('destroy');
    expect(h.hv.ops().filter((op) => op !== 'define')).toEqual([]);
    expect(h.hv.peek('vm1')).toMatchObject({ state: 'running', id });
    expect(h.condition('vm1', 'Ready')).toMatchObject({ status: 'True', reason: 'Running' });
  });

  it('a guest that acts on the shutdown it had is started again, not forced', async () => {
    await running(h, 'vm1');
    h.hv.ignoreShutdown.add('vm1');
    h.put('vm1', { runStrategy: 'Halted' });
    await h.reconcile('vm1');
    h.put('vm1', { runStrategy: 'Always' });
    const watching = await h.reconcile('vm1');
    expect(watching.requeueAfterMs).toBeGreaterThan(0);
    // The guest's OS finishes the shutdown it was asked for.
    h.hv.stopBehindBack('vm1');
    h.reset();
    h.advance(watching.requeueAfterMs!);
    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['start']);
    expect(h.status('vm1')!.printableStatus).toBe('Running');
  });

  it('Halted again while the stop is withdrawn: the halt goes on, forced at its first timeout', async () => {
    await running(h, 'vm1');
    h.hv.ignoreShutdown.add('vm1');
    h.put('vm1', { runStrategy: 'Halted' });
    await h.reconcile('vm1');
    h.put('vm1', { runStrategy: 'Always' });
    await h.reconcile('vm1');
    h.put('vm1', { runStrategy: 'Halted' });
    h.reset();
    h.advance(SHUTDOWN_TIMEOUT_MS);
    await h.reconcile('vm1');
    expect(h.hv.ops().filter((op) => op !== 'define')).toEqual(['destroy']);
    expect(h.status('vm1')!.printableStatus).toBe('Stopped');
  });
});

describe('runStrategy Manual, Once, RerunOnFailure', () => {
  it('Manual never starts the guest', async () => {
    h.put('vm1', { runStrategy: 'Manual' });
    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['define']);
    expect(h.status('vm1')!.printableStatus).toBe('Stopped');
    expect(h.condition('vm1', 'Ready')?.status).toBe('True');

    h.reset();
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);

    // Started by hand, then stopped by hand: the controller follows, it does not act.
    h.hv.startBehindBack('vm1');
    await h.reconcile('vm1');
    expect(h.status('vm1')!.printableStatus).toBe('Running');
    h.hv.stopBehindBack('vm1');
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.status('vm1')!.printableStatus).toBe('Stopped');
  });

  it('Once starts the guest once; after it stops by itself it stays stopped', async () => {
    h.put('vm1', { runStrategy: 'Once' });
    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['define', 'start']);
    expect(h.status('vm1')!.startedOnce).toBe(true);
    expect(h.status('vm1')!.printableStatus).toBe('Running');

    h.reset();
    h.hv.stopBehindBack('vm1');
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.status('vm1')!.printableStatus).toBe('Stopped');
    expect(h.status('vm1')!.startedOnce).toBe(true);

    h.advance(60_000);
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
  });

  it.each(['Once', 'RerunOnFailure'] as const)('%s: a first start that fails is taken back from the domain, and tried again', async (runStrategy) => {
    h.put('vm1', { runStrategy });
    h.hv.failNext('start', new Error('Unable to create tap device'));
    await expect(h.reconcile('vm1')).rejects.toThrow(/tap device/);
    expect(h.hv.ops()).toEqual(['define', 'start', 'define']);
    expect(parseDomainXml(h.hv.peek('vm1')!.persistentXml).owner!.startedOnce).toBeUndefined();

    h.reset();
    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['define', 'start']);
    expect(h.hv.peek('vm1')?.state).toBe('running');
    expect(parseDomainXml(h.hv.peek('vm1')!.persistentXml).owner!.startedOnce).toBe(true);
  });

  it('RerunOnFailure restarts a crashed guest (destroy + start) and counts the restart', async () => {
    await running(h, 'vm1', 'RerunOnFailure');
    h.hv.crash('vm1');

    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['destroy', 'start']);
    expect(h.hv.peek('vm1')?.state).toBe('running');
    expect(h.status('vm1')!.printableStatus).toBe('Running');
    expect(h.status('vm1')!.restarts).toBe(1);
  });

  // Issue 8 (12): a user's Halted → Always counted as a restart.
  it('a start the user asked for (Halted → Always) is not a restart; a stop behind our back then is', async () => {
    await running(h, 'vm1');
    h.put('vm1', { runStrategy: 'Halted' });
    await h.reconcile('vm1');
    h.advance(60_000);
    await h.reconcile('vm1');
    expect(h.status('vm1')!.printableStatus).toBe('Stopped');
    h.put('vm1', { runStrategy: 'Always' });
    await h.reconcile('vm1');
    expect(h.status('vm1')!.printableStatus).toBe('Running');
    expect(h.status('vm1')!.restarts).toBeUndefined();

    h.hv.stopBehindBack('vm1');
    await h.reconcile('vm1');
    expect(h.status('vm1')!.restarts).toBe(1);
  });

  it('RerunOnFailure leaves a guest that shut down cleanly stopped', async () => {
    await running(h, 'vm1', 'RerunOnFailure');
    h.hv.stopBehindBack('vm1', 'shutdown');

    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.status('vm1')!.printableStatus).toBe('Stopped');
    expect(h.condition('vm1', 'Ready')?.status).toBe('True');
    h.advance(60_000);
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
  });

  it.each(['destroyed', 'failed'] as const)('RerunOnFailure starts a guest stopped by a failure (%s) again', async (reason) => {
    await running(h, 'vm1', 'RerunOnFailure');
    h.hv.stopBehindBack('vm1', reason);

    await h.reconcile('vm1');
    expect(h.hv.ops('vm1')).toEqual(['start']);
    expect(h.status('vm1')!.printableStatus).toBe('Running');
  });
});

describe('drift', () => {
  it('Always: a guest stopped behind our back is started again', async () => {
    await running(h, 'vm1');
    h.hv.stopBehindBack('vm1');

    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['start']);
    expect(h.status('vm1')!.printableStatus).toBe('Running');
    expect(h.status('vm1')!.restarts).toBe(1);
  });

  it('Always: a domain undefined behind our back is defined (same uuid, same MAC) and started again', async () => {
    await running(h, 'vm1');
    const { uuid } = h.hv.peek('vm1')!;
    const mac = h.status('vm1')!.allocations.mac;
    h.hv.undefineBehindBack('vm1');

    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['define', 'start']);
    expect(h.hv.peek('vm1')?.uuid).toBe(uuid);
    expect(parseDomainXml(h.hv.peek('vm1')!.persistentXml).owner?.mac).toBe(mac);
    expect(h.status('vm1')!.printableStatus).toBe('Running');
  });

  it('a persistent definition edited behind our back is redefined (no restart: the live guest is right)', async () => {
    await running(h, 'vm1');
    h.hv.editXml('vm1', (xml) => xml.replace(/(<memory unit="KiB">)\d+/, '$11048576').replace(/(<currentMemory unit="KiB">)\d+/, '$11048576'));
    expect(parseDomainXml(h.hv.peek('vm1')!.persistentXml).facts.memoryKiB).toBe(1048576);

    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['define']);
    expect(parseDomainXml(h.hv.peek('vm1')!.persistentXml).facts.memoryKiB).toBe(256 * 1024);
    expect(h.status('vm1')!.printableStatus).toBe('Running');

    h.reset();
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
  });
});

describe('spec changes on a running guest', () => {
  it('Always: memory change redefines, then restarts gracefully (shutdown, next reconcile start)', async () => {
    await running(h, 'vm1');
    h.put('vm1', { runStrategy: 'Always', memory: '512Mi' });

    const first = await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['define', 'shutdown']);
    expect(first.requeueAfterMs).toBeGreaterThan(0);
    expect(h.status('vm1')!.printableStatus).toBe('Stopping');
    expect(parseDomainXml(h.hv.peek('vm1')!.persistentXml).facts.memoryKiB).toBe(512 * 1024);

    h.reset();
    h.advance(first.requeueAfterMs!);
    expect(await h.reconcile('vm1')).toEqual({});
    expect(h.hv.ops()).toEqual(['start']);
    expect(parseDomainXml(h.hv.peek('vm1')!.liveXml!).facts.memoryKiB).toBe(512 * 1024);
    expect(h.status('vm1')!.printableStatus).toBe('Running');
    expect(h.status('vm1')!.observedGeneration).toBe(2);
    expect(h.condition('vm1', 'Ready')).toMatchObject({ status: 'True', observedGeneration: 2 });
    expect(h.condition('vm1', 'RestartRequired')).toBeUndefined();

    h.reset();
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.statuses.writes).toBe(0);
  });

  it('Always: a guest ignoring ACPI during a restart is destroyed after the timeout and started in the same reconcile', async () => {
    await running(h, 'vm1');
    h.hv.ignoreShutdown.add('vm1');
    h.put('vm1', { runStrategy: 'Always', vcpus: 2 });
    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['define', 'shutdown']);

    h.reset();
    h.advance(SHUTDOWN_TIMEOUT_MS);
    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['destroy', 'start']);
    expect(parseDomainXml(h.hv.peek('vm1')!.liveXml!).facts.vcpus).toBe(2);
    expect(h.status('vm1')!.printableStatus).toBe('Running');
  });

  // Regression: restartAllowed() includes RerunOnFailure, but a started RerunOnFailure guest has
  // want 'keep', and the restart branch of planVirtualMachine() was reachable only with want 'run'.
  it('RerunOnFailure: memory change restarts the guest gracefully, as restartAllowed() says', async () => {
    await running(h, 'vm1', 'RerunOnFailure');
    h.put('vm1', { runStrategy: 'RerunOnFailure', memory: '512Mi' });

    const first = await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['define', 'shutdown']);
    expect(first.requeueAfterMs).toBeGreaterThan(0);
    expect(h.condition('vm1', 'RestartRequired')).toBeUndefined();

    h.reset();
    h.advance(first.requeueAfterMs!);
    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['start']);
    expect(parseDomainXml(h.hv.peek('vm1')!.liveXml!).facts.memoryKiB).toBe(512 * 1024);
    expect(h.status('vm1')!.printableStatus).toBe('Running');
  });

  it('Manual: memory change redefines but does not stop the guest; RestartRequired says so', async () => {
    h.put('vm1', { runStrategy: 'Manual' });
    await h.reconcile('vm1');
    h.hv.startBehindBack('vm1');
    await h.reconcile('vm1');
    h.reset();

    h.put('vm1', { runStrategy: 'Manual', memory: '512Mi' });
    const result = await h.reconcile('vm1');
    expect(result.requeueAfterMs).toBeUndefined();
    expect(h.hv.ops()).toEqual(['define']);
    expect(h.hv.peek('vm1')?.state).toBe('running');
    expect(h.condition('vm1', 'RestartRequired')).toMatchObject({ status: 'True', reason: 'SpecChangedWhileRunning', observedGeneration: 2 });
    expect(h.condition('vm1', 'RestartRequired')?.message).toContain('memory');
    expect(h.status('vm1')!.printableStatus).toBe('Running');
    expect(h.events.reasons()).toContain('RestartRequired');

    // Restarted by hand: the condition goes away.
    h.hv.stopBehindBack('vm1');
    h.hv.startBehindBack('vm1');
    h.reset();
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.condition('vm1', 'RestartRequired')).toBeUndefined();
  });
});

describe('labels and annotations', () => {
  it('a label-only edit reaches the stored object (same generation, no libvirt call)', async () => {
    await running(h, 'vm1');
    const vm = h.store.get<VirtualMachine>(keyOf('vm1'))!;
    h.store.set(keyOf('vm1'), { ...vm, metadata: { ...vm.metadata, labels: { team: 'radio' }, annotations: { note: 'x' } } });
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.statuses.get(keyOf('vm1'))!.metadata).toMatchObject({ generation: 1, labels: { team: 'radio' }, annotations: { note: 'x' } });
    expect(h.statuses.writes).toBe(1);
    h.reset();
    await h.reconcile('vm1');
    expect(h.statuses.writes).toBe(0);
  });
});

describe('a domain that is not ours', () => {
  it('is never touched; the resource is Failed with Stalled DomainNameTaken', async () => {
    h.hv.defineBehindBack(FOREIGN_XML('vm1'));
    h.hv.startBehindBack('vm1');
    const before = structuredClone(h.hv.peek('vm1'));
    h.put('vm1', { runStrategy: 'Always' });

    const result = await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.hv.peek('vm1')).toEqual(before);
    expect(h.status('vm1')!.printableStatus).toBe('Failed');
    expect(h.condition('vm1', 'Stalled')).toMatchObject({ status: 'True', reason: 'DomainNameTaken' });
    expect(h.condition('vm1', 'Ready')).toMatchObject({ status: 'False', reason: 'DomainNameTaken' });
    expect(result.requeueAfterMs).toBeGreaterThan(0);

    h.reset();
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.statuses.writes).toBe(0);
  });

  it('is said once per cause: a warning naming the resource and a Warning event, not at every retry', async () => {
    h.hv.defineBehindBack(FOREIGN_XML('vm1'));
    h.put('vm1', { runStrategy: 'Always' });
    for (let i = 0; i < 3; i++) await h.reconcile('vm1');
    const said = h.logs.filter((l) => l.reason === 'DomainNameTaken');
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ level: 'warn', key: keyOf('vm1') });
    expect(said[0]!.msg).toContain('a libvirt domain named vm1 exists and does not belong to this resource');
    expect(h.events.events.filter((e) => e.reason === 'DomainNameTaken').map((e) => [e.type, e.key])).toEqual([['Warning', keyOf('vm1')]]);
    // The foreign domain goes: the VM is made; should one come back, it is said again.
    h.hv.undefineBehindBack('vm1');
    await h.reconcile('vm1');
    expect(h.status('vm1')!.printableStatus).not.toBe('Failed');
    h.hv.undefineBehindBack('vm1');
    h.hv.defineBehindBack(FOREIGN_XML('vm1'));
    await h.reconcile('vm1');
    expect(h.logs.filter((l) => l.reason === 'DomainNameTaken')).toHaveLength(2);
  });

  it('is not deleted when no resource is declared for its name', async () => {
    h.hv.defineBehindBack(FOREIGN_XML('vm1'));
    h.hv.startBehindBack('vm1');

    expect(await h.reconcile('vm1')).toEqual({});
    h.advance(SHUTDOWN_TIMEOUT_MS * 2);
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.hv.peek('vm1')?.state).toBe('running');
    expect(h.statuses.writes).toBe(0);
    expect(h.statuses.removes).toBe(0);
    expect(h.disks.calls).toEqual([]);
  });

  it('is a domain owned by another resource too (metadata naming someone else)', async () => {
    h.put('vm1', { runStrategy: 'Halted' });
    await h.reconcile('vm1');
    const xml = h.hv.peek('vm1')!.persistentXml.replace('name="vm1"', 'name="other"');
    h.hv.undefineBehindBack('vm1');
    h.hv.defineBehindBack(xml);
    h.reset();

    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.condition('vm1', 'Stalled')?.reason).toBe('DomainNameTaken');
  });

  // Regression: with a foreign domain and no resource, reconcile() returned before removing the
  // status of a resource that had been stalled on DomainNameTaken.
  it('deleting a resource stalled on DomainNameTaken removes its status but leaves the domain', async () => {
    h.hv.defineBehindBack(FOREIGN_XML('vm1'));
    h.put('vm1', { runStrategy: 'Always' });
    await h.reconcile('vm1');
    expect(h.status('vm1')?.printableStatus).toBe('Failed');
    h.reset();

    h.store.delete(keyOf('vm1'));
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.hv.peek('vm1')).toBeDefined();
    expect(h.statuses.get(keyOf('vm1'))).toBeUndefined();
  });
});

describe('deletion', () => {
  it('shuts the guest down, then removes its overlays, undefines it, removes status and the MAC', async () => {
    h.disks.images.add('base.qcow2');
    await running(h, 'vm1', 'Always', { disks: [{ image: 'base.qcow2' }] });
    const mac = h.status('vm1')!.allocations.mac!;
    expect(h.macs.holder(mac)).toBe(keyOf('vm1'));

    h.store.delete(keyOf('vm1'));
    const first = await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['shutdown']);
    expect(first.requeueAfterMs).toBeGreaterThan(0);
    expect(h.status('vm1')!.printableStatus).toBe('Terminating');
    expect(h.hv.peek('vm1')).toBeDefined();

    h.reset();
    h.advance(first.requeueAfterMs!);
    expect(await h.reconcile('vm1')).toEqual({});
    expect(h.hv.ops()).toEqual(['undefine']);
    expect(h.hv.peek('vm1')).toBeUndefined();
    expect(h.disks.calls).toEqual([{ op: 'removeOverlays', domainName: 'vm1' }]);
    expect(h.journal.filter((j) => /removeOverlays|undefine/.test(j))).toEqual(['disks:removeOverlays vm1', 'hv:undefine vm1']);
    expect(h.disks.overlays.size).toBe(0);
    expect(h.statuses.get(keyOf('vm1'))).toBeUndefined();
    expect(h.macs.get(keyOf('vm1'))).toBeUndefined();
    expect(h.macs.holder(mac)).toBeUndefined();
    expect(h.events.reasons()).toContain('Deleted');

    h.reset();
    expect(await h.reconcile('vm1')).toEqual({});
    expect(h.hv.calls).toEqual([]);
    expect(h.disks.calls).toEqual([]);
    expect(h.statuses.removes).toBe(0);
  });

  it('destroys a guest that ignores ACPI after the timeout, then undefines it', async () => {
    await running(h, 'vm1');
    h.hv.ignoreShutdown.add('vm1');
    h.store.delete(keyOf('vm1'));

    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['shutdown']);
    h.reset();
    h.advance(1_000);
    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.status('vm1')!.printableStatus).toBe('Terminating');

    h.advance(SHUTDOWN_TIMEOUT_MS);
    await h.reconcile('vm1');
    expect(h.hv.ops()).toEqual(['destroy', 'undefine']);
    expect(h.hv.peek('vm1')).toBeUndefined();
    expect(h.statuses.get(keyOf('vm1'))).toBeUndefined();
  });

  it('undefines a stopped domain at once', async () => {
    h.put('vm1', { runStrategy: 'Halted' });
    await h.reconcile('vm1');
    h.reset();
    h.store.delete(keyOf('vm1'));

    expect(await h.reconcile('vm1')).toEqual({});
    expect(h.hv.ops()).toEqual(['undefine']);
    expect(h.statuses.get(keyOf('vm1'))).toBeUndefined();
  });
});

describe('MAC addresses', () => {
  it('an explicit MAC used by another VM: Failed, Stalled MACConflict, nothing defined', async () => {
    h.put('vm1', { runStrategy: 'Halted' });
    await h.reconcile('vm1');
    const taken = h.status('vm1')!.allocations.mac!;
    h.reset();

    h.put('vm2', { runStrategy: 'Always', network: { mac: taken.toUpperCase() } });
    expect(await h.reconcile('vm2')).toEqual({});
    expect(h.hv.calls).toEqual([]);
    expect(h.hv.peek('vm2')).toBeUndefined();
    expect(h.status('vm2')!.printableStatus).toBe('Failed');
    expect(h.condition('vm2', 'Stalled')).toMatchObject({ status: 'True', reason: 'MACConflict' });
    expect(h.condition('vm2', 'Stalled')?.message).toContain(keyOf('vm1'));
    expect(h.macs.holder(taken)).toBe(keyOf('vm1'));

    // Fixed by the user: a free MAC is used as given.
    h.put('vm2', { runStrategy: 'Always', network: { mac: '52:54:00:AB:CD:EF' } });
    await h.reconcile('vm2');
    expect(h.hv.ops('vm2')).toEqual(['define', 'start']);
    expect(h.status('vm2')!.allocations.mac).toBe('52:54:00:ab:cd:ef');
    expect(h.condition('vm2', 'Stalled')).toBeUndefined();
    expect(h.status('vm2')!.printableStatus).toBe('Running');
  });
});

// Issue 8 (9): memory "0" reached libvirt ("Memory size must be specified") and crash-looped.
describe('memory the controller cannot run', () => {
  it.each([['0'], ['0.5'], ['1k'], ['2Ti']])('%s: Stalled InvalidMemory, nothing defined', async (memory) => {
    h.put('vm1', { runStrategy: 'Always', memory });
    expect(await h.reconcile('vm1')).toEqual({});
    expect(h.hv.calls).toEqual([]);
    expect(h.condition('vm1', 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidMemory' });
  });
});

describe('disk images', () => {
  it('a missing image: Stalled ImageNotFound, no define', async () => {
    h.put('vm1', { runStrategy: 'Always', disks: [{ image: 'debian.qcow2' }] });
    expect(await h.reconcile('vm1')).toEqual({});
    expect(h.hv.calls).toEqual([]);
    expect(h.disks.calls).toEqual([]);
    expect(h.status('vm1')!.printableStatus).toBe('Failed');
    expect(h.condition('vm1', 'Stalled')).toMatchObject({ status: 'True', reason: 'ImageNotFound' });
    expect(h.condition('vm1', 'Stalled')?.message).toContain('debian.qcow2');
    expect(h.events.events.filter((e) => e.reason === 'ImageNotFound').map((e) => [e.type, e.key])).toEqual([['Warning', keyOf('vm1')]]);
    await h.reconcile('vm1'); // a resync: nothing said again
    const said = h.logs.filter((l) => l.reason === 'ImageNotFound');
    expect(said.map((l) => [l.level, l.key])).toEqual([['warn', keyOf('vm1')]]);
    expect(said[0]!.msg).toContain('debian.qcow2');
    expect(h.events.events.filter((e) => e.reason === 'ImageNotFound')).toHaveLength(1);
  });

  it('with the image present: define with the overlay path in the XML, then ensureOverlay (before the start)', async () => {
    h.put('vm1', { runStrategy: 'Always', disks: [{ image: 'debian.qcow2' }] });
    await h.reconcile('vm1');
    h.reset();

    h.disks.images.add('debian.qcow2');
    await h.reconcile('vm1');
    expect(h.disks.calls).toEqual([
      { op: 'ensureOverlay', domainName: 'vm1', index: 0, imagePath: `${h.disks.imageDir}/debian.qcow2` },
      { op: 'ensureOverlay', domainName: 'vm1', index: 0, imagePath: `${h.disks.imageDir}/debian.qcow2` },
    ]);
    // A kill between the two leaves a domain (deleted with its overlays), never overlays nothing names.
    expect(h.journal.slice(0, 3)).toEqual(['hv:define vm1', 'disks:ensureOverlay vm1#0', 'disks:ensureOverlay vm1#0']);
    expect(h.hv.ops()).toEqual(['define', 'start']);
    const facts = parseDomainXml(h.hv.peek('vm1')!.persistentXml).facts;
    expect(facts.diskPaths).toEqual([h.disks.overlayPath('vm1', 0, `${h.disks.imageDir}/debian.qcow2`)]);
    expect(h.hv.peek('vm1')!.persistentXml).not.toContain('debian.qcow2');
    expect(h.condition('vm1', 'Stalled')).toBeUndefined();
    expect(h.status('vm1')!.printableStatus).toBe('Running');
  });
});

describe('failures', () => {
  it('start failing 3 times: status written each time, reconcile throws, then CrashLoopBackOff', async () => {
    h.put('vm1', { runStrategy: 'Always' });
    h.hv.failNext('start', new Error('internal error: qemu unexpectedly closed the monitor'), 3);

    await expect(h.reconcile('vm1')).rejects.toThrow('qemu unexpectedly closed the monitor');
    expect(h.hv.ops()).toEqual(['define', 'start']);
    expect(h.statuses.writes).toBe(1);
    expect(h.status('vm1')!.printableStatus).toBe('Starting');
    expect(h.condition('vm1', 'Ready')).toMatchObject({ status: 'False', reason: 'ReconcileError' });
    expect(h.condition('vm1', 'Stalled')).toBeUndefined();
    expect(h.events.reasons()).toContain('ReconcileError');

    await expect(h.reconcile('vm1')).rejects.toThrow();
    expect(h.status('vm1')!.printableStatus).not.toBe('CrashLoopBackOff');
    await expect(h.reconcile('vm1')).rejects.toThrow();
    expect(h.hv.ops()).toEqual(['define', 'start', 'start', 'start']);
    expect(h.status('vm1')!.printableStatus).toBe('CrashLoopBackOff');
    expect(h.statuses.writes).toBeGreaterThanOrEqual(2);

    // The fourth try succeeds: Running again.
    h.reset();
    expect(await h.reconcile('vm1')).toEqual({});
    expect(h.hv.ops()).toEqual(['start']);
    expect(h.status('vm1')!.printableStatus).toBe('Running');
    expect(h.condition('vm1', 'Ready')?.status).toBe('True');
  });

  // Regression: status.ts reported CrashLoopBackOff whenever startFailures >= 3, whatever the
  // runStrategy, and startFailures is cleared only by a successful start or a deletion.
  it('a crash-looping VM switched to Halted reports Stopped, not CrashLoopBackOff', async () => {
    h.put('vm1', { runStrategy: 'Always' });
    h.hv.failNext('start', new Error('boom'), 3);
    for (let i = 0; i < 3; i++) await expect(h.reconcile('vm1')).rejects.toThrow('boom');
    expect(h.status('vm1')!.printableStatus).toBe('CrashLoopBackOff');
    h.reset();

    h.put('vm1', { runStrategy: 'Halted' });
    await h.reconcile('vm1');
    expect(h.hv.ops()).not.toContain('start');
    expect(h.status('vm1')!.printableStatus).toBe('Stopped');
    expect(h.condition('vm1', 'Ready')?.status).toBe('True');
  });

  it('hypervisor unavailable: reconcile throws HypervisorUnavailableError and writes no status', async () => {
    h.put('vm1', { runStrategy: 'Always' });
    h.hv.unavailable = true;
    await expect(h.reconcile('vm1')).rejects.toBeInstanceOf(HypervisorUnavailableError);
    expect(h.statuses.writes).toBe(0);
    expect(h.status('vm1')).toBeUndefined();

    h.hv.unavailable = false;
    await h.reconcile('vm1');
    expect(h.status('vm1')!.printableStatus).toBe('Running');
  });

  it('hypervisor lost in the middle of the actions: rethrown, status left as it was', async () => {
    await running(h, 'vm1');
    const before = structuredClone(h.status('vm1'));
    h.hv.stopBehindBack('vm1');
    h.hv.failNext('start', new HypervisorUnavailableError('libvirt connection lost: End of file while reading data'));

    await expect(h.reconcile('vm1')).rejects.toBeInstanceOf(HypervisorUnavailableError);
    expect(h.statuses.writes).toBe(0);
    expect(h.status('vm1')).toEqual(before);
    expect(h.events.reasons()).not.toContain('ReconcileError');
  });

  it('hypervisor unavailable while deleting: throws, status kept, MAC kept', async () => {
    await running(h, 'vm1');
    h.store.delete(keyOf('vm1'));
    h.hv.unavailable = true;
    await expect(h.reconcile('vm1')).rejects.toBeInstanceOf(HypervisorUnavailableError);
    expect(h.statuses.get(keyOf('vm1'))).toBeDefined();
    expect(h.macs.get(keyOf('vm1'))).toBeDefined();
  });
});

describe('source problems', () => {
  it('SourceValid False appears with the store problem and disappears when it is cleared', async () => {
    await running(h, 'vm1');
    h.store.setProblem(keyOf('vm1'), { reason: 'InvalidManifest', message: 'spec.vcpus: must be >= 1' });

    await h.reconcile('vm1');
    expect(h.hv.calls).toEqual([]);
    expect(h.condition('vm1', 'SourceValid')).toMatchObject({ status: 'False', reason: 'InvalidManifest', message: 'spec.vcpus: must be >= 1' });
    expect(h.status('vm1')!.printableStatus).toBe('Running');
    expect(h.statuses.writes).toBe(1);

    h.store.setProblem(keyOf('vm1'), undefined);
    await h.reconcile('vm1');
    expect(h.condition('vm1', 'SourceValid')).toBeUndefined();
    expect(h.statuses.writes).toBe(2);
  });
});
