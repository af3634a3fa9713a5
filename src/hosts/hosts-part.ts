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

export interface HostsPart extends Runnable {
  readonly hosts: HostConnections<LibvirtHypervisor>;
  readonly controller: Controller;
}

export function makeHostsPart(opts: { store: DesiredStore; statuses: StatusStore; logger: Logger; refreshMs?: number }): HostsPart {
  const { store, statuses, logger } = opts;
  const log = logger.child({ part: 'hosts' });
  let controller: Controller | undefined;
  const hosts = new HostConnections((uri) => new LibvirtHypervisor({ uri, logger: log }), (name) => controller?.enqueue(hypervisorKey(name)));
  controller = new Controller({
    reconciler: new HypervisorReconciler({ store, statuses, hosts, logger: log, ...(opts.refreshMs ? { refreshMs: opts.refreshMs } : {}) }),
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
    start: async () => {
      for (const key of store.keys()) if (key.startsWith(`${HYPERVISOR_KIND}/`)) hostsController.enqueue(key);
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
