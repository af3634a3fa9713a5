// What a change of a Hypervisor's status or declaration means for the VMs: those waiting for a
// place (Pending) or for room to leave a drained host (DrainBlocked), wherever they are, those
// whose spec.nodeName names it (a move waits for it to be Ready), and those on it look again (kube-scheduler moves its unschedulable pods back to the active queue on any
// node event: room can appear anywhere); those on a host (not the controller's own connection) that stopped answering
// are Unknown meanwhile (unknown-marker.ts).
import { resourceKey, type ResourceKey } from '../api/meta.js';
import { hypervisorKey, type HypervisorStatus } from '../api/hypervisor.js';
import { vmKeyForDomain, VM_KIND, type VirtualMachine, type VirtualMachineStatus } from '../api/virtual-machine.js';
import type { DesiredStore } from '../core/desired-store.js';
import { demandOf, type PlacedVm } from './placement.js';
import { errorMessage, type Logger } from '../core/logger.js';
import type { StatusStore } from '../ports/status-store.js';
import type { HostsPart } from './hosts-part.js';
import { unknownStatus } from './unknown-marker.js';

export async function markHostVms(host: string, hosts: HostsPart, statuses: StatusStore, store: DesiredStore, enqueue: (key: ResourceKey) => void, logger: Logger): Promise<void> {
  const ready = (statuses.get(hypervisorKey(host))?.status as HypervisorStatus | undefined)?.conditions.find((c) => c.type === 'Ready');
  const down = ready?.status === 'False' && host !== hosts.view.localHost();
  for (const object of statuses.list(VM_KIND)) {
    const status = object.status as VirtualMachineStatus | undefined;
    const key = resourceKey(VM_KIND, object.metadata.namespace, object.metadata.name);
    if (status?.printableStatus === 'Pending' || waitsFor(host, store.get<VirtualMachine>(key)?.spec, status)) enqueue(key);
    if (!status || status.nodeName !== host) continue;
    if (down) {
      const unknown = unknownStatus(status, host, ready!.message, new Date().toISOString());
      if (unknown) await statuses.write(key, { ...object, status: unknown }).catch((err) => logger.warn(`could not mark ${key} Unknown`, { error: errorMessage(err) }));
    } else {
      enqueue(key);
    }
  }
}

/**
 * Whether a VM elsewhere looks again when `host` changes: it waits for room to leave a drained
 * host (any host may make it), or its spec.nodeName names `host` (a move waits for it to be Ready).
 */
export function waitsFor(host: string, spec: { nodeName?: unknown } | undefined, status: VirtualMachineStatus | undefined): boolean {
  return spec?.nodeName === host || status?.conditions?.some((c) => c.type === 'Scheduled' && c.reason === 'DrainBlocked') === true;
}

/** The VMs placed per their status, with this process's newer decisions (not in status yet) over them. */
export function withAssignments(placed: PlacedVm[], assigned: ReadonlyMap<string, string>, store: DesiredStore): PlacedVm[] {
  const out = new Map(placed.map((vm) => [vm.domainName, vm]));
  for (const [domainName, nodeName] of assigned) {
    const key = vmKeyForDomain(domainName);
    const spec = store.get<VirtualMachine>(key)?.spec;
    if (spec) out.set(domainName, { key, domainName, nodeName, ...demandOf(spec) });
  }
  return [...out.values()];
}
