// Which reconciles pools and their claims call for: a pool's own when it or a claim in it
// changes; the VMs of its namespace that name it when it changes (one may fit now); and, when an
// address is returned anywhere, the VMs waiting for one (IPAssigned=False).
import { IPPOOL_KIND } from '../api/ip-pool.js';
import { parseResourceKey, resourceKey, type Condition } from '../api/meta.js';
import { VM_KIND, type VirtualMachine } from '../api/virtual-machine.js';
import type { Controller } from '../core/controller.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { IpClaims } from '../ports/ip-claims.js';
import type { StatusStore } from '../ports/status-store.js';
import { poolKeyOfClaim } from './pool-reconciler.js';

export function routePoolChanges(store: DesiredStore, statuses: StatusStore, ipClaims: IpClaims, pools: Controller, vms: Controller): void {
  store.onChange((key) => {
    const { kind, namespace, name } = parseResourceKey(key);
    if (kind !== IPPOOL_KIND) return;
    pools.enqueue(key);
    for (const vmKey of store.keysOf(VM_KIND, namespace)) {
      if (store.get<VirtualMachine>(vmKey)?.spec.network?.ipPool === name) vms.enqueue(vmKey);
    }
  });
  ipClaims.onChange((claim, change) => {
    const poolKey = poolKeyOfClaim(claim.pool);
    // Every pool of the namespace: an address claimed through one pool counts in another that overlaps it.
    const namespace = poolKey ? parseResourceKey(poolKey).namespace : parseResourceKey(claim.holderKey).namespace;
    for (const key of store.keysOf(IPPOOL_KIND, namespace)) pools.enqueue(key);
    if (change !== 'released') return;
    for (const object of statuses.list(VM_KIND)) {
      const conditions = (object.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];
      if (conditions.some((c) => c.type === 'IPAssigned' && c.status === 'False')) vms.enqueue(resourceKey(VM_KIND, object.metadata.namespace, object.metadata.name));
    }
  });
}

/** Every declared pool's key (a resync counts them all again). */
export function poolKeys(store: DesiredStore): string[] {
  return store.keysOf(IPPOOL_KIND);
}

