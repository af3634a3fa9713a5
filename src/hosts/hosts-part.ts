// The Manager part that keeps the declared Hypervisors' status: their own queue and reconciler,
// fed by the store (a declaration added, changed or removed) and by the hosts themselves
// (reconnected, lost). File mode declares Hypervisors in the watched directory.
import { parseResourceKey } from '../api/meta.js';
import { HYPERVISOR_KIND, hypervisorKey } from '../api/hypervisor.js';
import { LibvirtHypervisor } from '../adapters/libvirt/libvirt-hypervisor.js';
import { Controller } from '../core/controller.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { Logger } from '../core/logger.js';
import type { Runnable } from '../core/manager.js';
import type { StatusStore } from '../ports/status-store.js';
import { HostConnections } from './host-connections.js';
import { HypervisorReconciler } from './hypervisor-reconciler.js';
import type { Hypervisor } from '../api/hypervisor.js';
import { domainNameFor, VM_KIND, type VirtualMachine } from '../api/virtual-machine.js';
import type { PlacementView } from '../reconcilers/virtual-machine/steps/placement.js';
import { demandOf, type PlacedVm } from './placement.js';
import { ownedBy } from './hypervisor-status.js';
import type { Identity } from '../reconcilers/virtual-machine/ownership.js';

export interface HostsPart extends Runnable {
  readonly hosts: HostConnections<LibvirtHypervisor>;
  readonly controller: Controller;
  /** What the VM placement step reads (src/reconcilers/virtual-machine/steps/placement.ts). */
  readonly view: PlacementView;
  /** Called after a Hypervisor's status changed. */
  onStatusChange(listener: (name: string) => void): void;
}

export function makeHostsPart(opts: { store: DesiredStore; statuses: StatusStore; logger: Logger; connect: string; refreshMs?: number; identity?: Identity }): HostsPart {
  const { store, statuses, logger } = opts;
  const log = logger.child({ part: 'hosts' });
  let controller: Controller | undefined;
  const listeners: ((name: string) => void)[] = [];
  const hosts = new HostConnections((uri) => new LibvirtHypervisor({ uri, logger: log }), (name) => controller?.enqueue(hypervisorKey(name)));
  controller = new Controller({
    reconciler: new HypervisorReconciler({
      store, statuses, hosts, logger: log, ...(opts.refreshMs ? { refreshMs: opts.refreshMs } : {}),
      ...(opts.identity ? { owns: ownedBy(opts.identity) } : {}),
      onStatusChange: (name) => listeners.forEach((l) => l(name)),
    }),
    workers: 2,
    logger: log,
  });
  const hostsController = controller;
  store.onChange((key) => {
    if (parseResourceKey(key).kind === HYPERVISOR_KIND) hostsController.enqueue(key);
  });
  return {
    name: 'hosts',
    hosts,
    controller: hostsController,
    view: placementView(store, statuses, opts.connect),
    onStatusChange: (listener) => void listeners.push(listener),
    start: async () => {
      for (const key of store.keysOf(HYPERVISOR_KIND)) hostsController.enqueue(key);
      // Hypervisors no longer declared: their status goes.
      for (const object of statuses.list(HYPERVISOR_KIND)) hostsController.enqueue(hypervisorKey(object.metadata.name));
      hostsController.start();
    },
    stop: async () => {
      await hostsController.stop();
      await hosts.closeAll();
    },
  };
}

/** The declared Hypervisors with their last status, and where the VMs are placed (their status.nodeName). */
function placementView(store: DesiredStore, statuses: StatusStore, connect: string): PlacementView {
  const hypervisors = (): Hypervisor[] => store.keysOf(HYPERVISOR_KIND)
    .map((key) => ({ ...store.get<Hypervisor>(key)!, status: statuses.get(key)?.status }));
  return {
    hypervisors,
    localHost: () => hypervisors().find((hv) => hv.spec.uri === connect)?.metadata.name,
    placed: () => {
      const out: PlacedVm[] = [];
      for (const object of statuses.list(VM_KIND)) {
        const nodeName = (object.status as { nodeName?: string } | undefined)?.nodeName;
        if (!nodeName) continue;
        const key = `${VM_KIND}/${object.metadata.namespace}/${object.metadata.name}`;
        const spec = store.get<VirtualMachine>(key)?.spec;
        if (spec) out.push({ key, domainName: domainNameFor(object.metadata.namespace, object.metadata.name), nodeName, ...demandOf(spec) });
      }
      return out;
    },
  };
}
