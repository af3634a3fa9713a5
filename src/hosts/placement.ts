// Where a VM runs, decided once per reconcile (pure): spec.nodeName if set; else where it was
// placed before (placement is sticky: moving is a migration); else where its domain already is;
// else the scheduler's choice over the declared Hypervisors, counting every VM already placed on
// each (kube-scheduler's assumed pods: placed but not defined yet). Without declared
// Hypervisors, nothing is decided (one host, as before).
import type { Hypervisor } from '../api/hypervisor.js';
import { parseMemory } from '../api/quantity.js';
import type { VirtualMachineSpec } from '../api/virtual-machine.js';
import { hostViewOf } from './hypervisor-status.js';
import { schedule } from './scheduler.js';

export interface PlacedVm {
  key: string;
  nodeName: string;
  memoryBytes: number;
  vcpus: number;
}

export interface PlacementInput {
  vmKey: string;
  spec: VirtualMachineSpec;
  previousNodeName?: string | undefined;
  /** The VM's domain exists on this controller's own libvirt connection. */
  definedLocally: boolean;
  hypervisors: readonly Hypervisor[];
  /** The declared Hypervisor this controller's own connection (--connect) reaches, if any. */
  localHost?: string | undefined;
  /** Every VM placed so far (status.nodeName), this one included or not. */
  placed: readonly PlacedVm[];
}

export type PlacementDecision =
  | { kind: 'unmanaged' }
  /** Runs on the host this controller drives. */
  | { kind: 'here'; nodeName: string; message: string }
  /** Placed on a host this controller does not drive (acting on other hosts is not built yet). */
  | { kind: 'elsewhere'; nodeName: string; message: string }
  | { kind: 'unschedulable'; message: string; reasons: Record<string, string[]> };

export function decidePlacement(input: PlacementInput): PlacementDecision {
  const { spec, hypervisors, localHost } = input;
  if (hypervisors.length === 0) return { kind: 'unmanaged' };
  const at = (nodeName: string, why: string): PlacementDecision => nodeName === localHost
    ? { kind: 'here', nodeName, message: `${why} on ${nodeName}` }
    : { kind: 'elsewhere', nodeName, message: `${why} on ${nodeName}, a hypervisor this controller does not drive (${localHost ? `it drives ${localHost}` : 'its --connect URI is no declared Hypervisor'}); waiting` };
  // A guest that runs here stays here, whatever else is said: moving it is a migration.
  if (input.definedLocally && localHost) {
    return spec.nodeName && spec.nodeName !== localHost
      ? { kind: 'here', nodeName: localHost, message: `runs on ${localHost}; spec.nodeName names ${spec.nodeName}, and migrating it there is not built yet` }
      : { kind: 'here', nodeName: localHost, message: `runs on ${localHost}` };
  }
  if (spec.nodeName) return at(spec.nodeName, 'spec.nodeName places it');
  if (input.previousNodeName) return at(input.previousNodeName, 'placed');
  const used = new Map<string, { memoryBytes: number; vcpus: number; vms: number }>();
  for (const vm of input.placed) {
    if (vm.key === input.vmKey) continue;
    const u = used.get(vm.nodeName) ?? { memoryBytes: 0, vcpus: 0, vms: 0 };
    used.set(vm.nodeName, { memoryBytes: u.memoryBytes + vm.memoryBytes, vcpus: u.vcpus + vm.vcpus, vms: u.vms + 1 });
  }
  const hosts = hypervisors.map((hv) => hostViewOf(hv, used.get(hv.metadata.name) ?? { memoryBytes: 0, vcpus: 0, vms: 0 }));
  const placement = schedule({ memoryBytes: parseMemory(spec.memory), vcpus: spec.vcpus, ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}) }, hosts);
  if (placement.host === undefined) return { kind: 'unschedulable', message: placement.message, reasons: placement.reasons };
  return at(placement.host, 'the scheduler placed it');
}

/** What a placed VM takes, for PlacedVm (its spec's memory and vCPUs; a spec that does not parse takes nothing). */
export function demandOf(spec: VirtualMachineSpec): { memoryBytes: number; vcpus: number } {
  try {
    return { memoryBytes: parseMemory(spec.memory), vcpus: spec.vcpus };
  } catch {
    return { memoryBytes: 0, vcpus: 0 };
  }
}
