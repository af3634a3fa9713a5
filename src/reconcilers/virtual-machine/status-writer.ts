// The status a reconcile writes: what it saw and kept (allocations, the domain, the stop it waits
// on), computed by status.ts, and written only when it changed.
import type { ResourceKey } from '../../api/meta.js';
import type { VirtualMachine, VirtualMachineStatus } from '../../api/virtual-machine.js';
import type { MacAllocator } from '../../allocators/mac-allocator.js';
import type { VlanAllocator } from '../../allocators/vlan-allocator.js';
import type { DesiredStore } from '../../core/desired-store.js';
import type { StatusStore } from '../../ports/status-store.js';
import { sameDeclaration } from '../same-declaration.js';
import type { Observed } from './observe.js';
import type { Stopping } from './plan.js';
import { computeStatus, type StatusInput } from './status.js';

export interface StatusDeps {
  store: DesiredStore;
  statuses: StatusStore;
  macs: MacAllocator;
  vlans: VlanAllocator;
  onStatusChange?: (key: ResourceKey) => void;
  now: () => number;
}

export function statusInputFor(
  deps: StatusDeps, key: ResourceKey, vm: VirtualMachine, observed: Observed | undefined,
  progress: { stopping?: Stopping; startFailures: number }, error?: StatusInput['error'],
): StatusInput {
  const previous = deps.statuses.get(key)?.status as VirtualMachineStatus | undefined;
  const mac = deps.macs.get(key) ?? previous?.allocations.mac;
  const uuid = observed?.snapshot.uuid ?? previous?.allocations.uuid;
  const problem = deps.store.problem(key);
  const { stopping } = progress;
  return {
    generation: vm.metadata.generation,
    runStrategy: vm.spec.runStrategy,
    ...(previous ? { previous } : {}),
    ...(observed ? {
      domain: {
        name: observed.snapshot.name, uuid: observed.snapshot.uuid, state: observed.state, reason: observed.snapshot.reason,
        ...(observed.saved ? { saved: true } : {}),
        ...(observed.snapshot.id !== undefined ? { id: observed.snapshot.id } : {}),
        ...(observed.vncPort !== undefined ? { vncPort: observed.vncPort } : {}),
      },
    } : {}),
    allocations: {
      ...(mac ? { mac } : {}),
      ...(vm.spec.network?.ip ? { ip: vm.spec.network.ip } : {}),
      ...(deps.vlans.get(key) !== undefined ? { vlan: deps.vlans.get(key)! } : {}),
      ...(uuid ? { uuid } : {}),
    },
    ...(stopping ? { stopping } : {}),
    startedOnce: previous?.startedOnce ?? false,
    restarts: previous?.restarts ?? 0,
    ...(previous?.restartedAt ? { restartedAt: previous.restartedAt } : {}),
    startFailures: progress.startFailures,
    restartRequired: [],
    ...(error ? { error } : {}),
    ...(problem ? { sourceProblem: problem } : {}),
    now: new Date(deps.now()).toISOString(),
  };
}

/** Status is written only when it changed: writing every time would loop forever (metal3). */
export async function writeVmStatus(deps: StatusDeps, key: ResourceKey, vm: VirtualMachine, input: StatusInput): Promise<void> {
  const status = computeStatus(input);
  const stored = deps.statuses.get(key);
  if (stored && JSON.stringify(stored.status) === JSON.stringify(status) && sameDeclaration(stored, vm)) return;
  await deps.statuses.write(key, { apiVersion: vm.apiVersion, kind: vm.kind, metadata: vm.metadata, spec: vm.spec, status });
  deps.onStatusChange?.(key);
}
