// Composition root: config → adapters → source → controller. Nothing else wires things together.
import { resourceKey, type ResourceKey } from './api/meta.js';
import { domainNameFor, resourceNameForDomain, VM_KIND } from './api/virtual-machine.js';
import { FileEventLog } from './adapters/file-event-log.js';
import { ensureDir, FileStatusStore } from './adapters/file-status-store.js';
import { LibvirtHypervisor } from './adapters/libvirt-hypervisor.js';
import { QemuImgDisks } from './adapters/qemu-img-disks.js';
import { MacAllocator } from './allocators/mac-allocator.js';
import type { Config } from './config.js';
import { Controller } from './core/controller.js';
import { DesiredStore } from './core/desired-store.js';
import type { Logger } from './core/logger.js';
import { DomainPoller } from './observers/domain-poller.js';
import { parseDomainXml } from './reconcilers/virtual-machine/domain-xml.js';
import { VirtualMachineReconciler } from './reconcilers/virtual-machine/reconciler.js';
import { DirectorySource } from './sources/directory-source.js';

export interface RunningController {
  store: DesiredStore;
  source: DirectorySource;
  controller: Controller;
  hypervisor: LibvirtHypervisor;
  statuses: FileStatusStore;
  /** Enqueues every known resource (periodic resync does the same). */
  resync(): void;
  stop(): Promise<void>;
}

export async function startController(config: Config, logger: Logger): Promise<RunningController> {
  ensureDir(config.stateDir);
  const statuses = new FileStatusStore(config.stateDir).load([VM_KIND]);
  const events = new FileEventLog(config.stateDir);
  const hypervisor = new LibvirtHypervisor({ uri: config.connect, logger });
  await hypervisor.connect();
  logger.info('connected to libvirt', { uri: config.connect, domainType: hypervisor.domainType() });

  // Allocations come back from status and domain metadata before the first reconcile, so a
  // restart never hands out one MAC twice.
  const macs = new MacAllocator();
  const ownedDomains = new Set<ResourceKey>();
  for (const object of statuses.list(VM_KIND)) {
    const mac = object.status?.allocations?.mac;
    if (mac) macs.claim(resourceKey(VM_KIND, object.metadata.namespace, object.metadata.name), mac);
  }
  for (const domain of await hypervisor.listDomains()) {
    const owner = parseDomainXml(domain.persistentXml).owner;
    if (!owner || domainNameFor(owner.namespace, owner.name) !== domain.name) continue;
    const key = resourceKey(VM_KIND, owner.namespace, owner.name);
    ownedDomains.add(key);
    if (owner.mac && !macs.get(key)) macs.claim(key, owner.mac);
  }

  const store = new DesiredStore();
  const reconciler = new VirtualMachineReconciler({
    store, hypervisor, statuses, events, macs, logger,
    disks: new QemuImgDisks(config.imageDir, config.overlayDir),
    nic: config.nic,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
  });
  const controller = new Controller({ reconciler, workers: config.workers, logger });
  store.onChange((key) => controller.enqueue(key));

  const source = new DirectorySource({
    dir: config.dir, store, logger,
    previous: (key) => statuses.get(key),
    storedObjects: () => statuses.list(VM_KIND),
  });
  await source.start();

  const known = (key: ResourceKey): boolean => store.has(key) || statuses.get(key) !== undefined || ownedDomains.has(key);
  const resync = (): void => {
    for (const key of store.keys()) controller.enqueue(key);
    // What an earlier run created and is no longer declared goes too.
    for (const object of statuses.list(VM_KIND)) controller.enqueue(resourceKey(VM_KIND, object.metadata.namespace, object.metadata.name));
    for (const key of ownedDomains) controller.enqueue(key);
    ownedDomains.clear();
  };
  controller.start();
  resync();

  const resyncTimer = setInterval(resync, config.resyncMs);
  resyncTimer.unref();
  const poller = new DomainPoller(hypervisor, config.pollMs, (domainName) => {
    const { namespace, name } = resourceNameForDomain(domainName);
    const key = resourceKey(VM_KIND, namespace, name);
    if (known(key)) controller.enqueue(key);
  }, logger, (domainName) => reconciler.lastObservedActivity(domainName), (id) => reconciler.nameOfDomainId(id));
  await poller.tick();
  poller.start();
  hypervisor.onReconnect(resync);

  return {
    store, source, controller, hypervisor, statuses, resync,
    async stop() {
      clearInterval(resyncTimer);
      await poller.stop();
      await source.stop();
      await controller.stop();
      await events.close();
      await hypervisor.close();
    },
  };
}
