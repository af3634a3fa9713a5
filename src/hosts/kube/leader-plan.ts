// What the placement leader writes in Kubernetes mode (pure): a place (status.nodeName) for each
// VM that has neither spec.nodeName nor status.nodeName, or Pending with the scheduler's reasons;
// and, for a Hypervisor whose heartbeat stopped, Ready=False and its VMs Unknown (as Kubernetes'
// node lifecycle controller marks a lost node's pods). A VM with a node is never placed again:
// the leader does not recreate a lost node's VMs elsewhere.
import { findCondition, setCondition } from '../../api/meta.js';
import type { Hypervisor, HypervisorStatus } from '../../api/hypervisor.js';
import type { VirtualMachineSpec, VirtualMachineStatus } from '../../api/virtual-machine.js';
import { decidePlacement, demandOf, type PlacedVm } from '../placement.js';
import { unknownStatus } from '../unknown-marker.js';

export interface ClusterVm {
  key: string;
  domainName: string;
  generation: number;
  spec: VirtualMachineSpec;
  status?: VirtualMachineStatus | undefined;
  /** The node it runs on (nodeOf: status.nodeName, else spec.nodeName); '' when not placed. */
  node: string;
  deleting: boolean;
}

export type VmWrite =
  | { key: string; kind: 'place'; node: string; status: VirtualMachineStatus }
  | { key: string; kind: 'unschedulable'; status: VirtualMachineStatus };

/**
 * One pass over the cluster's VMs: every VM without a node gets one (counting those placed earlier
 * in the pass and `assumed`, decided before and not seen back yet), or Pending if none fits.
 * Only writes that change something are returned.
 */
export function planPlacements(vms: readonly ClusterVm[], hypervisors: readonly Hypervisor[], assumed: ReadonlyMap<string, string>, now: string): VmWrite[] {
  const placed: PlacedVm[] = [];
  for (const vm of vms) {
    const node = vm.node || assumed.get(vm.key);
    if (node) placed.push({ key: vm.key, domainName: vm.domainName, nodeName: node, ...demandOf(vm.spec) });
  }
  const writes: VmWrite[] = [];
  for (const vm of vms) {
    if (vm.node || vm.deleting || assumed.has(vm.key)) continue;
    const decision = decidePlacement({ vmKey: vm.key, spec: vm.spec, definedLocally: false, drives: () => true, hypervisors, placed: () => placed });
    const previous = vm.status;
    if (decision.kind === 'here') {
      placed.push({ key: vm.key, domainName: vm.domainName, nodeName: decision.nodeName, ...demandOf(vm.spec) });
      const conditions = setCondition(previous?.conditions ?? [], {
        type: 'Scheduled', status: 'True', reason: 'Scheduled', observedGeneration: vm.generation,
        message: `the placement leader placed it on ${decision.nodeName}; that node's controller runs it`,
      }, now);
      writes.push({ key: vm.key, kind: 'place', node: decision.nodeName, status: { ...pendingBase(vm), ...previous, nodeName: decision.nodeName, conditions } as VirtualMachineStatus });
    } else if (decision.kind === 'unschedulable') {
      const before = findCondition(previous?.conditions, 'Scheduled');
      if (previous?.printableStatus === 'Pending' && before?.reason === 'Unschedulable' && before.message === decision.message) continue;
      let conditions = setCondition(previous?.conditions ?? [], {
        type: 'Scheduled', status: 'False', reason: 'Unschedulable', observedGeneration: vm.generation, message: decision.message,
      }, now);
      conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason: 'Unschedulable', observedGeneration: vm.generation, message: decision.message }, now);
      writes.push({ key: vm.key, kind: 'unschedulable', status: { ...pendingBase(vm), ...previous, printableStatus: 'Pending', conditions } as VirtualMachineStatus });
    }
  }
  return writes;
}

/** What a VM's status holds before any node has written one. */
function pendingBase(vm: ClusterVm): Partial<VirtualMachineStatus> {
  return { printableStatus: 'Pending', observedGeneration: vm.generation, allocations: {} } as Partial<VirtualMachineStatus>;
}

/** A lost Hypervisor's status: Ready=False, HeartbeatStopped (undefined if it says so already). */
export function lostHostStatus(hv: Hypervisor, silentForMs: number, now: string): HypervisorStatus | undefined {
  const ready = findCondition(hv.status?.conditions, 'Ready');
  if (ready?.status === 'False' && ready.reason === 'HeartbeatStopped') return undefined;
  const generation = hv.metadata.generation;
  return {
    ...hv.status,
    observedGeneration: hv.status?.observedGeneration ?? generation,
    conditions: setCondition(hv.status?.conditions ?? [], {
      type: 'Ready', status: 'False', reason: 'HeartbeatStopped', observedGeneration: generation,
      message: `node ${hv.metadata.name}'s controller has not renewed its heartbeat for ${Math.round(silentForMs / 1000)} s; its VMs are Unknown and are not recreated elsewhere`,
    }, now),
  };
}

/** The VMs on a lost host that are not Unknown yet, with the status that says so. */
export function unknownVmsOn(host: string, vms: readonly ClusterVm[], now: string): { key: string; status: VirtualMachineStatus }[] {
  const out: { key: string; status: VirtualMachineStatus }[] = [];
  for (const vm of vms) {
    if (vm.node !== host || !vm.status || vm.deleting) continue;
    const status = unknownStatus(vm.status, host, 'its controller stopped renewing its heartbeat', now);
    if (status) out.push({ key: vm.key, status });
  }
  return out;
}
