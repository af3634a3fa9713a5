// Composition root: config → adapters → mode (source, status, events) → controllers → HTTP,
// started in order by the Manager (src/core/manager.ts). Nothing else wires things together.
import type { AddressInfo } from 'node:net';
import { VM_KIND } from './api/virtual-machine.js';
import { CLIENT_KIND } from './api/wimax-client.js';
import { LibvirtHypervisor } from './adapters/libvirt/libvirt-hypervisor.js';
import { OvsDatapath } from './adapters/ovs-datapath.js';
import { SwitchWatch } from './adapters/ovs-switch-watch.js';
import { QemuImgDisks } from './adapters/qemu-img-disks.js';
import { GenisoimageSeeds } from './adapters/genisoimage-seeds.js';
import { assertQemuCanReach } from './adapters/qemu-dir-access.js';
import { MacAllocator } from './allocators/mac-allocator.js';
import { VlanAllocator } from './allocators/vlan-allocator.js';
import { CONTROLLER_NAMESPACE, type Config } from './config.js';
import { Controller } from './core/controller.js';
import { DeletionGate } from './core/deletion-gate.js';
import { DesiredStore } from './core/desired-store.js';
import type { Logger } from './core/logger.js';
import { Manager } from './core/manager.js';
import { RecentEvents } from './http/ui/recent-events.js';
import { FileMode } from './modes/file-mode.js';
import type { Mode } from './modes/mode.js';
import { countLibvirtCall } from './observability/call-counters.js';
import { setCallObserver } from './adapters/libvirt/native.js';
import { Metrics } from './observability/metrics.js';
import { Acting } from './wiring/acting.js';
import { VirtualMachineReconciler } from './reconcilers/virtual-machine/reconciler.js';
import { ClientIndex } from './reconcilers/wimax-client/client-index.js';
import { WimaxClientReconciler } from './reconcilers/wimax-client/reconciler.js';
import { routeChanges, routeVmWakeUps } from './wiring/routing.js';
import { makeHttpPart } from './wiring/http-part.js';
import { shapingPolicyKey, type ShapingPolicy } from './api/shaping-policy.js';
import type { TrafficFeed } from './traffic/traffic-feed.js';
import { keepTrafficStatus } from './traffic/traffic-status.js';
import { makeTraffic } from './traffic/traffic-wiring.js';
import { IpPoolReconciler } from './pools/pool-reconciler.js';
import { routePoolChanges } from './pools/pool-wiring.js';
import { InProcessIpClaims } from './adapters/in-process-ip-claims.js';
import { IPPOOL_KIND } from './api/ip-pool.js';
import { IpAllocator } from './pools/ip-allocation.js';
import { DhcpEntries } from './pools/dhcp-entries.js';
import { declaredPools, guestAddressFor } from './pools/guest-address.js';
import { makeHostsPart } from './hosts/hosts-part.js';
import { PlacedHypervisor } from './hosts/placed-hypervisor.js';
import { hypervisorKey } from './api/hypervisor.js';
import { placementFor } from './hosts/placement-wiring.js';
import { makeKubeHosts } from './hosts/kube-hosts.js';

/** Station reconciles mostly wait for the switch batch their change rides in: the more wait together, the fewer ovs-ofctl processes (bench/bind-clients.ts). */
const STATION_WORKERS_PER_WORKER = 64;

export interface RunningController {
  mode: Mode;
  store: DesiredStore;
  gate: DeletionGate;
  controller: Controller;
  clients: Controller;
  hypervisor: LibvirtHypervisor;
  datapath: OvsDatapath | undefined;
  statuses: Mode['statuses'];
  vlans: VlanAllocator;
  metrics: Metrics;
  /** Per-station and per-slice traffic, with a switch and --traffic-interval not off. */
  traffic: TrafficFeed | undefined;
  /** Where the HTTP API listens, when it does. */
  httpAddress: AddressInfo | undefined;
  /** Resolves if this replica lost its leader lease (it has stopped acting by then). */
  lostLeadership: Promise<void>;
  /** Enqueues every known resource (periodic resync does the same); resolves once they are enqueued. */
  resync(): Promise<void>;
  /** Resolves when neither controller has work queued or in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Kubernetes mode is loaded only when asked for: its client costs about 70 MB of memory and a
 * quarter of a second of start-up that a file-mode controller never uses.
 */
async function makeMode(config: Config, logger: Logger): Promise<Mode> {
  if (config.source === 'dir') return new FileMode(config, logger);
  const { KubeMode, loadKubeConfig } = await import('./modes/kube-mode.js');
  const kube = config.kube ?? { vlanClaimNamespace: CONTROLLER_NAMESPACE };
  return new KubeMode({
    kubeConfig: loadKubeConfig(kube.kubeconfig),
    ...(kube.namespace ? { namespace: kube.namespace } : {}),
    ...(kube.nodeName ? { nodeName: kube.nodeName } : {}),
    controllerName: kube.leaderElection?.name ?? 'wimaxvm-controller',
    vlanClaimNamespace: kube.vlanClaimNamespace,
    allowEmpty: config.allowEmpty,
    standby: kube.leaderElection !== undefined,
  }, logger);
}

/**
 * Builds the controller and starts it completely (state, libvirt, switch, HTTP, source, then
 * reconciling), or not at all: a part that cannot start stops the others and throws. Aborting
 * `signal` (SIGINT, SIGTERM) during the start stops it the same way.
 */
export async function startController(config: Config, logger: Logger, signal?: AbortSignal): Promise<RunningController> {
  const mode = await makeMode(config, logger);
  // The reconcilers do not see status.traffic (the traffic publisher's) and keep it when they write.
  const statuses = keepTrafficStatus(mode.statuses);
  // Kubernetes mode: the console's detail view reads recent events from memory (see recent-events.ts).
  const recentEvents = mode instanceof FileMode ? undefined : new RecentEvents(mode.events);
  const events = recentEvents ?? mode.events;
  const hypervisor = new LibvirtHypervisor({ uri: config.connect, logger });
  // Every libvirt call the binding makes, by its C name, for /metrics (wimaxvm_libvirt_calls_total).
  setCallObserver(countLibvirtCall);
  const datapath = config.nic.type === 'bridge' && config.nic.openvswitch && config.uplink
    ? new OvsDatapath({ bridge: config.nic.source, uplink: config.uplink, logger })
    : undefined;

  // Reconcilers get the ports timed for /metrics; connect, close and the poller use the adapters.
  const metrics = new Metrics();
  const timedHypervisor = metrics.instrumentHypervisor(hypervisor);
  const timedDatapath = datapath ? metrics.instrumentDatapath(datapath) : undefined;

  const store = new DesiredStore();
  const gate = new DeletionGate(store, () => mode.witness, logger);
  // Read when used: Kubernetes mode learns its cluster's id only once the cluster answers.
  const identity = { get self() { return mode.identity; }, adoptFrom: config.adoptFrom };
  const clientIndex = new ClientIndex(store);
  const shapingEnabled = (namespace: string): boolean => store.get<ShapingPolicy>(shapingPolicyKey(namespace))?.spec.enabled !== false;
  const macs = new MacAllocator();
  const vlans = new VlanAllocator(config.vlanRange);

  // The declared Hypervisors' status and the VMs' placement (many hosts, issue 11); file mode
  // only for now (Kubernetes mode's source does not list Hypervisors yet).
  const hosts = mode instanceof FileMode ? makeHostsPart({ store, statuses, logger, connect: config.connect, identity }) : undefined;
  // With Hypervisors declared, a VM's domain calls go to the host it is placed on.
  // The own connection migrates through the adapter itself (the timed port has no migrate).
  const placedHypervisor = hosts && new PlacedHypervisor(timedHypervisor, () => hosts.view.localHost(), hosts.hosts, statuses, hypervisor, (host) => store.has(hypervisorKey(host)));
  // Kubernetes mode with a node (DaemonSet): the node's Hypervisor registered, placement by a leader.
  const kubeHosts = await makeKubeHosts(config, mode, hypervisor, logger, { gate, requeue: (key) => controller.enqueue(key), identity });
  const placement = kubeHosts?.view
    ?? (hosts && placedHypervisor && placementFor({ hosts, placed: placedHypervisor, store, gate, logger, requeue: (key) => controller.enqueue(key), stopTimeoutMs: config.shutdownTimeoutMs }));

  // Declared before use in the reconcilers' callbacks; assigned just below.
  let clients: Controller;
  const reconciler = new VirtualMachineReconciler({
    store, gate, identity, hypervisor: placedHypervisor ?? timedHypervisor, statuses, events, macs, vlans, vlanClaims: mode.vlanClaims, logger, shapingEnabled,
    ...(timedDatapath ? { datapath: timedDatapath } : {}),
    ...(placement ? { placement } : {}),
    disks: new QemuImgDisks(config.imageDir, config.overlayDir),
    seeds: new GenisoimageSeeds(config.overlayDir), // cloud-init seeds, in the overlays' folders
    // The seed's static network config: this reconcile's address with its pool's prefix, gateway
    // and DNS; none on a libvirt network, whose DHCP host entry gives the guest that address.
    seedAddress: (vm, ip) => (config.nic.type === 'network' ? undefined : guestAddressFor(vm, declaredPools(store, vm.metadata.namespace), ip)),
    nic: config.nic,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    onStatusChange: (vmKey) => clientIndex.clientsOfVm(vmKey).forEach((k) => clients.enqueue(k)),
    requeue: (vmKey) => controller.enqueue(vmKey),
    ipAllocator: new IpAllocator({ store, ipClaims: mode.ipClaims }),
    dhcpEntries: new DhcpEntries(timedHypervisor),
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
  metrics.watchInventory(() => ({
    vmsByStatus: countByStatus(statuses.list(VM_KIND)),
    clientsByStatus: countByStatus(statuses.list(CLIENT_KIND)),
    vlansInUse: vlans.inUse,
    vlansFree: vlans.range.max - vlans.range.min + 1 - vlans.inUse,
    deletionsWithheld: gate.withheldCount,
    sourceBlocked: gate.blocked() !== undefined,
  }));
  routeChanges(store, clientIndex, controller, clients);
  const pools = new Controller({
    reconciler: new IpPoolReconciler({ store, statuses, ipClaims: mode.ipClaims }), workers: 1, logger, onReconcile: metrics.reconcileObserver(IPPOOL_KIND),
  });
  routePoolChanges(store, statuses, mode.ipClaims, pools, controller);
  routeVmWakeUps({ store, statuses, vlans, vlanClaims: mode.vlanClaims, controller, logger, ...(hosts ? { hosts } : {}) });

  // The watch calls Acting back only once started (the switch part), after Acting is built.
  const switchWatch = datapath && new SwitchWatch({
    bridge: config.nic.type === 'bridge' ? config.nic.source : '', logger,
    onRestored: () => acting.repairSwitch(),
  });
  const acting = new Acting({
    config, mode, store, statuses, hypervisor, datapath, switchWatch, reconciler, controller, clients, clientIndex, macs, vlans, identity, logger, pools,
    ...(mode.ipClaims instanceof InProcessIpClaims ? { rememberIp: (key: string, uid: string, ip: string) => (mode.ipClaims as InProcessIpClaims).remember({ ip, holderKey: key, holderUid: uid }) } : {}),
  });

  const traffic = datapath && config.nic.type === 'bridge' ? makeTraffic({
    config, bridge: config.nic.source, mode, store, clientIndex, vlans, registry: metrics.registry, logger, mayWrite: () => acting.isActing,
    switchDown: () => switchWatch?.unreachableBecause,
  }) : undefined;

  const http = makeHttpPart({
    config, mode, store, statuses, recentEvents, hypervisor, metrics, gate, switchWatch, logger,
    // vmstat reads the host the VM is placed on.
    domains: placedHypervisor ?? timedHypervisor,
    ...(traffic ? { traffic: traffic.feed } : {}),
  });

  const manager = new Manager(logger).add(
    // The mode opened its state (file mode: the controller lock first) when it was made, before
    // anything else was built; as the first part it is closed last.
    { name: 'state', start: async () => undefined, stop: () => mode.close() },
    // Said once here rather than as a Permission denied at every start of a guest with disks.
    { name: 'disk directories', start: () => assertQemuCanReach(config.connect, [
      { flag: '--overlay-dir', path: config.overlayDir, reachable: '/var/lib/wimaxvm/overlays' },
      { flag: '--image-dir', path: config.imageDir, reachable: '/var/lib/wimaxvm/images' }]) },
    {
      name: 'libvirt',
      // An unreachable libvirtd is waited for (as when it goes away later): the API answers and
      // /readyz says why meanwhile; the controllers start once it is there.
      start: async () => {
        if (await hypervisor.connectOrWait() === 'connected') {
          logger.info('connected to libvirt', { uri: config.connect, domainType: hypervisor.domainType() });
        } else {
          logger.warn('libvirt is not reachable; waiting for it (retrying with backoff)', { uri: config.connect, error: hypervisor.unreachableBecause });
        }
      },
      stop: () => hypervisor.close(),
    },
    {
      name: 'switch',
      start: async () => {
        if (!datapath) return;
        await datapath.ensureBase();
        await datapath.refresh();
        logger.info('connected to Open vSwitch', { bridge: config.nic.type === 'bridge' ? config.nic.source : '', uplink: config.uplink });
        switchWatch?.start();
      },
      stop: async () => { await switchWatch?.stop(); },
    },
    http.part,
    {
      name: 'source',
      start: async (abort) => {
        const stopEarly = () => void mode.stopSource();
        abort.addEventListener('abort', stopEarly, { once: true });
        try {
          await mode.startSource(store);
        } finally {
          abort.removeEventListener('abort', stopEarly);
        }
      },
      stop: () => mode.stopSource(),
    },
    {
      name: 'controllers',
      start: async (abort) => {
        if (!hypervisor.connected) {
          await hypervisor.whenConnected(abort);
          logger.info('connected to libvirt', { uri: config.connect, domainType: hypervisor.domainType() });
        }
        await acting.start();
      },
      stop: () => acting.stop(),
    },
    ...(traffic ? [traffic.part] : []),
    ...(hosts ? [hosts] : []),
    ...(kubeHosts ? [kubeHosts] : []),
  );
  const onAbort = () => void manager.stop();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  try {
    await manager.start();
  } catch (err) {
    signal?.removeEventListener('abort', onAbort);
    await mode.close(); // the mode was opened when it was made, even if its part never started
    throw err;
  }

  return {
    mode, store, gate, controller, clients, hypervisor, datapath, statuses, vlans, metrics, httpAddress: http.address(), traffic: traffic?.feed,
    lostLeadership: acting.lostLeadership,
    resync: () => acting.resync(),
    async idle() {
      do {
        await controller.idle();
        await clients.idle();
      } while (controller.queue.length || controller.queue.inFlight || clients.queue.length || clients.queue.inFlight);
    },
    async stop() {
      signal?.removeEventListener('abort', onAbort);
      await manager.stop();
    },
  };
}

function countByStatus(objects: { status?: unknown }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const object of objects) {
    const status = (object.status as { printableStatus?: string } | undefined)?.printableStatus ?? 'Unknown';
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}
