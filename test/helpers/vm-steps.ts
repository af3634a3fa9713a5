// Runs VirtualMachine steps (src/reconcilers/virtual-machine/steps/) over in-memory fakes, for
// table tests of one step or a few: the context they saw, the status written, what they returned.
import type { VirtualMachine, VirtualMachineSpec, VirtualMachineStatus } from '../../src/api/virtual-machine.js';
import { MacAllocator } from '../../src/allocators/mac-allocator.js';
import { VlanAllocator } from '../../src/allocators/vlan-allocator.js';
import { DeletionGate } from '../../src/core/deletion-gate.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ReconcileResult } from '../../src/core/result.js';
import { observe, type Observed } from '../../src/reconcilers/virtual-machine/observe.js';
import { stepDepsFor, type VirtualMachineReconcilerDeps } from '../../src/reconcilers/virtual-machine/reconciler.js';
import type { StepDeps } from '../../src/reconcilers/virtual-machine/steps/deps.js';
import { newVmContext, runSteps } from '../../src/reconcilers/virtual-machine/steps/run.js';
import type { VmContext, VmStep } from '../../src/reconcilers/virtual-machine/steps/step.js';
import { FakeDiskImages } from '../fakes/fake-disk-images.js';
import { FakeEventRecorder } from '../fakes/fake-event-recorder.js';
import { FakeHypervisor } from '../fakes/fake-hypervisor.js';
import { FakeStatusStore } from '../fakes/fake-status-store.js';
import { FakeWitness, TEST_IDENTITY } from '../fakes/fake-witness.js';

export const STEP_T0 = Date.parse('2025-03-01T12:00:00.000Z');

export function vmNamed(name: string, spec: Partial<VirtualMachineSpec> = {}, generation = 1): VirtualMachine {
  return {
    apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
    metadata: { name, namespace: 'default', uid: `uid-${name}-0000-4000-8000-000000000000`, generation, creationTimestamp: new Date(STEP_T0).toISOString() },
    spec: { runStrategy: 'Always', memory: '256Mi', vcpus: 1, ...spec },
  };
}

/** Fakes behind the steps' deps; `extra` adds an area's ports (AreaDeps) or replaces a fake. */
export function stepHarness(extra: Partial<VirtualMachineReconcilerDeps> = {}) {
  const hv = new FakeHypervisor();
  const statuses = new FakeStatusStore();
  const events = new FakeEventRecorder();
  const store = new DesiredStore();
  const witness = new FakeWitness();
  let nowMs = STEP_T0;
  const deps: StepDeps = stepDepsFor({
    gate: new DeletionGate(store, () => witness, silentLogger), identity: TEST_IDENTITY,
    store, hypervisor: hv, disks: new FakeDiskImages(), statuses, events, macs: new MacAllocator(), vlans: new VlanAllocator(),
    logger: silentLogger, nic: { type: 'user' }, shutdownTimeoutMs: 30_000, now: () => nowMs,
    ...extra,
  });
  return {
    hv, statuses, events, store, deps,
    advance(ms: number) { nowMs += ms; },
    /** Runs `steps` on `vm` as one reconcile would; the domain is looked up in the fake hypervisor first. */
    async run(steps: readonly VmStep[], vm: VirtualMachine): Promise<{ result?: ReconcileResult; error?: unknown; ctx: VmContext; status?: VirtualMachineStatus }> {
      const key = `VirtualMachine/${vm.metadata.namespace}/${vm.metadata.name}`;
      store.set(key, vm);
      const observed: Observed | undefined = observe(await hv.getDomain(vm.metadata.name));
      const previous = statuses.get(key)?.status as VirtualMachineStatus | undefined;
      const ctx = newVmContext(key, vm, vm.metadata.name, observed, previous);
      let result: ReconcileResult | undefined;
      let error: unknown;
      try {
        result = await runSteps(steps, ctx, deps);
      } catch (err) {
        error = err;
      }
      const status = statuses.get(key)?.status as VirtualMachineStatus | undefined;
      return { ...(result ? { result } : {}), ...(error !== undefined ? { error } : {}), ctx, ...(status ? { status } : {}) };
    },
  };
}
