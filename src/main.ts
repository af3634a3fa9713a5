// Composition root: config → adapters → mode (source, status, events) → controllers → HTTP.
// Nothing else wires things together.
import type { AddressInfo } from 'node:net';
import { parseResourceKey, resourceKey, type ResourceKey } from './api/meta.js';
import { shapingPolicyKey, SHAPING_POLICY_KIND, type ShapingPolicy } from './api/shaping-policy.js';
import { domainNameFor, resourceNameForDomain, VM_KIND } from './api/virtual-machine.js';
import { CLIENT_KIND } from './api/wimax-client.js';
import { LeaseElector } from './adapters/kube-lease-elector.js';
import { LibvirtHypervisor } from './adapters/libvirt-hypervisor.js';
import { OvsDatapath } from './adapters/ovs-datapath.js';
import { QemuImgDisks } from './adapters/qemu-img-disks.js';
import { MacAllocator } from './allocators/mac-allocator.js';
import { VlanAllocator } from './allocators/vlan-allocator.js';
import type { Config } from './config.js';
import { Controller } from './core/controller.js';
import { DesiredStore } from './core/desired-store.js';
import { errorMessage, type Logger } from './core/logger.js';
import { LegacyApi, type LegacyReader } from './http/legacy-api.js';
import { HttpServer } from './http/server.js';
import { FileMode } from './modes/file-mode.js';
import { KubeMode, loadKubeConfig } from './modes/kube-mode.js';
import type { Mode } from './modes/mode.js';
import { Metrics } from './observability/metrics.js';
import { DomainPoller } from './observers/domain-poller.js';
import { parseDomainXml } from './reconcilers/virtual-machine/domain-xml.js';
import { VirtualMachineReconciler } from './reconcilers/virtual-machine/reconciler.js';
import { ClientIndex } from './reconcilers/wimax-client/client-index.js';
import { WimaxClientReconciler } from './reconcilers/wimax-client/reconciler.js';

/** Station reconciles mostly wait for the switch batch their change rides in: the more wait together, the fewer ovs-ofctl processes (bench/bind-clients.ts). */
const STATION_WORKERS_PER_WORKER = 8;

export interface RunningController {
  mode: Mode;
  store: DesiredStore;
  controller: Controller;
  clients: Controller;
  hypervisor: LibvirtHypervisor;
  datapath: OvsDatapath | undefined;
  statuses: Mode['statuses'];
  vlans: VlanAllocator;
  metrics: Metrics;
  /** Where the HTTP API listens, when it does. */
  httpAddress: AddressInfo | undefined;
  /** Resolves if this replica lost its leader lease (it has stopped acting by then). */
  lostLeadership: Promise<void>;
  /** Enqueues every known resource (periodic resync does the same). */
  resync(): void;
  /** Resolves when neither controller has work queued or in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

function makeMode(config: Config, logger: Logger): Mode {
  if (config.source === 'dir') return new FileMode(config, logger);
  const kube = config.kube ?? {};
  return new KubeMode({
    kubeConfig: loadKubeConfig(kube.kubeconfig),
    ...(kube.namespace ? { namespace: kube.namespace } : {}),
    ...(kube.nodeName ? { nodeName: kube.nodeName } : {}),
    standby: kube.leaderElection !== undefined,
  }, logger);
}

export async function startController(config: Config, logger: Logger): Promise<RunningController> {
  const mode = makeMode(config, logger);
  const { statuses, events } = mode;
  const hypervisor = new LibvirtHypervisor({ uri: config.connect, logger });
  await hypervisor.connect();
  logger.info('connected to libvirt', { uri: config.connect, domainType: hypervisor.domainType() });

  let datapath: OvsDatapath | undefined;
  if (config.nic.type === 'bridge' && config.nic.openvswitch && config.uplink) {
    datapath = new OvsDatapath({ bridge: config.nic.source, uplink: config.uplink, logger });
    await datapath.ensureBase();
    await datapath.refresh();
    logger.info('connected to Open vSwitch', { bridge: config.nic.source, uplink: config.uplink });
  }

  // Reconcilers get the ports timed for /metrics; connect, close and the poller use the adapters.
  const metrics = new Metrics();
  const timedHypervisor = metrics.instrumentHypervisor(hypervisor);
  const timedDatapath = datapath ? metrics.instrumentDatapath(datapath) : undefined;

  const store = new DesiredStore();
  const clientIndex = new ClientIndex(store);
  const shapingEnabled = (namespace: string): boolean => store.get<ShapingPolicy>(shapingPolicyKey(namespace))?.spec.enabled !== false;
  const macs = new MacAllocator();
  const vlans = new VlanAllocator(config.vlanRange);

  // Declared before use in the reconcilers' callbacks; assigned just below.
  let clients: Controller;
  const reconciler = new VirtualMachineReconciler({
    store, hypervisor: timedHypervisor, statuses, events, macs, vlans, logger, shapingEnabled,
    ...(timedDatapath ? { datapath: timedDatapath } : {}),
    disks: new QemuImgDisks(config.imageDir, config.overlayDir),
    nic: config.nic,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    onStatusChange: (vmKey) => clientIndex.clientsOfVm(vmKey).forEach((k) => clients.enqueue(k)),
  });
  const controller = new Controller({ reconciler, workers: config.workers, logger, onReconcile: metrics.reconcileObserver(VM_KIND) });
  clients = new Controller({
    reconciler: new WimaxClientReconciler({ store, statuses, events, index: clientIndex, logger, shapingEnabled, ...(timedDatapath ? { datapath: timedDatapath } : {}) }),
    workers: config.workers * STATION_WORKERS_PER_WORKER,
    logger,
    onReconcile: metrics.reconcileObserver(CLIENT_KIND),
  });
  metrics.watchQueue(VM_KIND, controller.queue);
  metrics.watchQueue(CLIENT_KIND, clients.queue);
  const countByStatus = (kind: string): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const object of statuses.list(kind)) {
      const status = (object.status as { printableStatus?: string } | undefined)?.printableStatus ?? 'Unknown';
      counts[status] = (counts[status] ?? 0) + 1;
    }
    return counts;
  };
  metrics.watchInventory(() => ({
    vmsByStatus: countByStatus(VM_KIND),
    clientsByStatus: countByStatus(CLIENT_KIND),
    vlansInUse: vlans.inUse,
    vlansFree: vlans.range.max - vlans.range.min + 1 - vlans.inUse,
  }));

  const inNamespace = (namespace: string, kind: string) => [...store.keys()].filter((k) => k.startsWith(`${kind}/${namespace}/`));
  store.onChange((key) => {
    const { kind, namespace } = parseResourceKey(key);
    if (kind === VM_KIND) {
      controller.enqueue(key);
      clientIndex.clientsOfVm(key).forEach((k) => clients.enqueue(k));
    } else if (kind === CLIENT_KIND) {
      clientIndex.update(key).forEach((k) => clients.enqueue(k));
    } else if (kind === SHAPING_POLICY_KIND) {
      inNamespace(namespace, VM_KIND).forEach((k) => controller.enqueue(k));
      inNamespace(namespace, CLIENT_KIND).forEach((k) => clients.enqueue(k));
    }
  });
  await mode.startSource(store);

  // Allocations come back from status and domain metadata before reconciling, so a restart (or
  // a standby replica taking over) never hands out one MAC or VLAN twice; the same listing
  // refreshes the libvirt adapter's view of which domains exist. Domains of namespaces this
  // controller does not watch are someone else's business, never orphans to remove.
  const ownedDomains = new Set<ResourceKey>();
  const survey = async (): Promise<void> => {
    for (const object of statuses.list(VM_KIND)) {
      const key = resourceKey(VM_KIND, object.metadata.namespace, object.metadata.name);
      const { mac, vlan } = object.status?.allocations ?? {};
      if (mac) macs.claim(key, mac);
      if (vlan !== undefined) vlans.claim(key, vlan);
    }
    for (const domain of await hypervisor.listDomains()) {
      const owner = parseDomainXml(domain.persistentXml).owner;
      if (!owner || domainNameFor(owner.namespace, owner.name) !== domain.name) continue;
      const key = resourceKey(VM_KIND, owner.namespace, owner.name);
      if (owner.mac && !macs.get(key)) macs.claim(key, owner.mac);
      if (owner.vlan !== undefined && vlans.get(key) === undefined) vlans.claim(key, owner.vlan);
      if (!mode.namespace || owner.namespace === mode.namespace) ownedDomains.add(key);
    }
  };

  /** Paths on the switch of stations no client declares and of VLANs no VM holds (gone while we were down). */
  const removeOrphanPaths = async (): Promise<void> => {
    if (!datapath) return;
    for (const mac of datapath.clientMacs()) {
      if (clientIndex.claimsOf(mac).length) continue;
      await datapath.removeClientPath(mac);
      logger.info(`removed the path of undeclared station ${mac}`);
    }
    for (const vlan of datapath.sliceVlans()) {
      if (vlans.holder(vlan) !== undefined) continue;
      await datapath.removeSlicePath(vlan);
      logger.info(`removed the slice rates of VLAN ${vlan}, which no VM holds`);
    }
  };

  const known = (key: ResourceKey): boolean => store.has(key) || statuses.get(key) !== undefined || ownedDomains.has(key);
  const enqueueAll = (): void => {
    for (const key of store.keys()) {
      if (key.startsWith(`${VM_KIND}/`)) controller.enqueue(key);
      else if (key.startsWith(`${CLIENT_KIND}/`)) clients.enqueue(key);
    }
    // What an earlier run created and is no longer declared goes too.
    for (const object of statuses.list(VM_KIND)) controller.enqueue(resourceKey(VM_KIND, object.metadata.namespace, object.metadata.name));
    for (const object of statuses.list(CLIENT_KIND)) clients.enqueue(resourceKey(CLIENT_KIND, object.metadata.namespace, object.metadata.name));
    for (const key of ownedDomains) controller.enqueue(key);
    ownedDomains.clear();
  };
  const resync = (): void => {
    if (!datapath) return enqueueAll();
    // Drift on the switch (a flow or meter deleted by hand) shows in a fresh dump.
    datapath.ensureBase()
      .then(() => datapath!.refresh())
      .then(removeOrphanPaths)
      .catch((err) => logger.warn('switch resync failed', { error: errorMessage(err) }))
      .finally(enqueueAll);
  };

  const resyncTimer = setInterval(resync, config.resyncMs);
  resyncTimer.unref();
  const poller = new DomainPoller(hypervisor, config.pollMs, (domainName) => {
    const { namespace, name } = resourceNameForDomain(domainName);
    const key = resourceKey(VM_KIND, namespace, name);
    if (known(key)) controller.enqueue(key);
  }, logger, (domainName) => reconciler.lastObservedActivity(domainName), (id) => reconciler.nameOfDomainId(id));

  // Acting (reconciling, repairing orphans) only while leading, when leader election is on;
  // watching and serving HTTP go on either way, so a standby takes over warm.
  let acting = false;
  const startActing = async (): Promise<void> => {
    acting = true;
    mode.startWriting?.();
    await survey();
    await poller.tick();
    controller.start();
    clients.start();
    await removeOrphanPaths().catch((err) => logger.warn('removing orphan paths failed', { error: errorMessage(err) }));
    enqueueAll();
    poller.start();
  };
  const stopActing = async (): Promise<void> => {
    if (!acting) return;
    acting = false;
    mode.stopWriting?.();
    await poller.stop();
    await Promise.all([controller.stop(), clients.stop()]);
  };
  const leaderAbort = new AbortController();
  let lost!: () => void;
  const lostLeadership = new Promise<void>((resolve) => (lost = resolve));
  let election: Promise<void> | undefined;
  const lease = config.kube?.leaderElection;
  if (lease && mode.name === 'kube') {
    const elector = new LeaseElector({ kubeConfig: loadKubeConfig(config.kube?.kubeconfig), ...lease, logger });
    election = elector.run({
      // A leader that cannot start (libvirt down at takeover) gives up: holding the lease while
      // doing nothing would keep the standby from taking over.
      onStartedLeading: () => void startActing().catch((err) => {
        logger.error('could not start acting; giving up the lease', { error: errorMessage(err) });
        void stopActing().then(() => lost());
      }),
      // A replica that loses the lease stops acting at once; the process then exits (run).
      onStoppedLeading: () => void stopActing().then(() => { if (!leaderAbort.signal.aborted) lost(); }),
    }, leaderAbort.signal);
  } else {
    await startActing();
  }
  hypervisor.onReconnect(() => acting && resync());

  let http: HttpServer | undefined;
  let httpAddress: AddressInfo | undefined;
  if (config.listen) {
    // Declared resources with their last status, as the legacy API shows them.
    const reader: LegacyReader = {
      get: <T>(key: ResourceKey) => {
        const object = store.get(key);
        return (object && { ...object, status: statuses.get(key)?.status }) as T | undefined;
      },
      list: <T>(kind: string, namespace: string) => inNamespace(namespace, kind).map((key) => reader.get<T>(key)!),
    };
    http = new HttpServer({
      host: config.listen.host, port: config.listen.port, logger,
      ...(config.apiToken ? { token: config.apiToken } : {}),
      legacy: new LegacyApi({ writer: mode.writer, reader, hypervisor: timedHypervisor, namespace: 'default', waitMs: 60_000 }),
      metrics,
      ready: () => (!hypervisor.connected ? { ready: false, reason: `libvirt ${config.connect} is not connected` } : { ready: true }),
    });
    httpAddress = await http.start();
  }

  return {
    mode, store, controller, clients, hypervisor, datapath, statuses, vlans, resync, httpAddress, metrics, lostLeadership,
    async idle() {
      do {
        await controller.idle();
        await clients.idle();
      } while (controller.queue.length || controller.queue.inFlight || clients.queue.length || clients.queue.inFlight);
    },
    async stop() {
      await http?.stop();
      clearInterval(resyncTimer);
      // In-flight reconciles finish before the lease is handed over, so no two replicas overlap.
      await stopActing();
      leaderAbort.abort();
      await election; // releases the lease
      await mode.stopSource();
      await mode.close();
      await hypervisor.close();
    },
  };
}
