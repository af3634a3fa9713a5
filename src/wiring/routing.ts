// Which reconciles a change calls for. Of desired state: a VM's own and its stations'; a
// station's and those its MAC competes with; every VM and station of a namespace whose
// ShapingPolicy changed.
import { HYPERVISOR_KIND } from '../api/hypervisor.js';
import { parseResourceKey, resourceKey, type ResourceKey } from '../api/meta.js';
import type { VlanAllocator } from '../allocators/vlan-allocator.js';
import type { Logger } from '../core/logger.js';
import { markHostVms } from '../hosts/host-vms.js';
import type { HostsPart } from '../hosts/hosts-part.js';
import type { StatusStore } from '../ports/status-store.js';
import type { VlanClaims } from '../ports/vlan-claims.js';
import { SHAPING_POLICY_KIND } from '../api/shaping-policy.js';
import { VM_KIND } from '../api/virtual-machine.js';
import { CLIENT_KIND } from '../api/wimax-client.js';
import type { Controller } from '../core/controller.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { ClientIndex } from '../reconcilers/wimax-client/client-index.js';

export function routeChanges(store: DesiredStore, clientIndex: ClientIndex, vms: Controller, clients: Controller): void {
  store.onChange((key) => {
    const { kind, namespace } = parseResourceKey(key);
    if (kind === VM_KIND) {
      vms.enqueue(key);
      clientIndex.clientsOfVm(key).forEach((k) => clients.enqueue(k));
    } else if (kind === CLIENT_KIND) {
      clientIndex.update(key).forEach((k) => clients.enqueue(k));
    } else if (kind === SHAPING_POLICY_KIND) {
      store.keysOf(VM_KIND, namespace).forEach((k) => vms.enqueue(k));
      store.keysOf(CLIENT_KIND, namespace).forEach((k) => clients.enqueue(k));
    }
  });
}

/**
 * Which VMs look again when something other than their declaration changes: a VLAN given back
 * anywhere, a VLAN one of ours holds wanted by another VM, a Hypervisor's readiness or declaration.
 */
export function routeVmWakeUps(deps: {
  store: DesiredStore; statuses: StatusStore; vlans: VlanAllocator; vlanClaims: VlanClaims; controller: Controller; logger: Logger; hosts?: HostsPart;
}): void {
  const { store, statuses, vlans, vlanClaims, controller, logger, hosts } = deps;
  const enqueue = (key: ResourceKey) => controller.enqueue(key);
  if (hosts) {
    // A Hypervisor's figures or readiness changed: the VMs still waiting for a place, and those on
    // it, look again; on a host that stopped answering they are Unknown meanwhile.
    hosts.onStatusChange((host) => void markHostVms(host, hosts, statuses, store, enqueue, logger));
    // A Hypervisor drained or uncordoned (its declaration changed): its VMs look again.
    store.onChange((key) => { if (key.startsWith(`${HYPERVISOR_KIND}/`)) void markHostVms(parseResourceKey(key).name, hosts, statuses, store, enqueue, logger); });
  }
  // A VLAN given back anywhere: the VMs whose spec names it look again, as do those whose status
  // says they wait for one (VLANAssigned=False). A VM names its VLAN before it finds it held, so
  // one whose reconcile is still in flight is queued again too, never missed.
  vlanClaims.onReleased((claim) => {
    for (const key of vlans.declarersOf(claim.vlan)) enqueue(key);
    for (const object of statuses.list(VM_KIND)) {
      const conditions = (object.status as { conditions?: { type: string }[] } | undefined)?.conditions ?? [];
      if (conditions.some((c) => c.type === 'VLANAssigned')) enqueue(resourceKey(VM_KIND, object.metadata.namespace, object.metadata.name));
    }
  });
  // A VM elsewhere names a VLAN one of ours holds automatically: ours looks again and moves.
  vlanClaims.onWanted((claim) => {
    if (store.get(claim.holderKey)) enqueue(claim.holderKey);
  });
}
