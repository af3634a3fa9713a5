// The part of a controller that acts: it rebuilds allocations from status and domain metadata,
// then runs the reconcilers, libvirt's domain events, the domain poller and the periodic resync. With leader election it
// acts only while it holds the lease; watching and serving HTTP go on either way, so a standby
// takes over warm.
import { parseResourceKey, resourceKey, type ResourceKey } from '../api/meta.js';
import { domainNameFor, vmKeyForDomain, VM_KIND } from '../api/virtual-machine.js';
import { CLIENT_KIND } from '../api/wimax-client.js';
import type { LibvirtHypervisor } from '../adapters/libvirt/libvirt-hypervisor.js';
import type { OvsDatapath } from '../adapters/ovs-datapath.js';
import type { SwitchWatch } from '../adapters/ovs-switch-watch.js';
import type { MacAllocator } from '../allocators/mac-allocator.js';
import type { VlanAllocator } from '../allocators/vlan-allocator.js';
import type { Config } from '../config.js';
import type { Controller } from '../core/controller.js';
import type { DesiredStore } from '../core/desired-store.js';
import { errorMessage, type Logger } from '../core/logger.js';
import type { Mode } from '../modes/mode.js';
import { DomainEventRouter } from '../observers/domain-events.js';
import { DomainPoller } from '../observers/domain-poller.js';
import { parseDomainXml } from '../reconcilers/virtual-machine/domain-xml.js';
import { ownershipOf, type Identity } from '../reconcilers/virtual-machine/ownership.js';
import type { VirtualMachineReconciler } from '../reconcilers/virtual-machine/reconciler.js';
import type { ClientIndex } from '../reconcilers/wimax-client/client-index.js';

/** How often the poller looks while libvirt delivers domain events: a safety net only. */
export const SAFETY_NET_POLL_MS = 30_000;

export interface ActingDeps {
  config: Config;
  mode: Mode;
  store: DesiredStore;
  statuses: Mode['statuses'];
  hypervisor: LibvirtHypervisor;
  datapath: OvsDatapath | undefined;
  /** Tells whether the switch is reachable (with a datapath). */
  switchWatch?: SwitchWatch | undefined;
  reconciler: VirtualMachineReconciler;
  controller: Controller;
  clients: Controller;
  clientIndex: ClientIndex;
  macs: MacAllocator;
  vlans: VlanAllocator;
  identity: Identity;
  logger: Logger;
  /** IPPools' status (size, allocated, free), run and resynced with the others. */
  pools?: Controller;
  /** Rebuilds an IP claim from status or domain metadata before the first reconcile (file mode's registry). */
  rememberIp?: (key: ResourceKey, uid: string, ip: string) => void;
}

export class Acting {
  /** Resolves if this replica lost its leader lease (it has stopped acting by then). */
  readonly lostLeadership: Promise<void>;
  private lost!: () => void;
  private acting = false;
  private readonly ownedDomains = new Set<ResourceKey>();
  private readonly poller: DomainPoller;
  private readonly events: DomainEventRouter;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly leaderAbort = new AbortController();
  private election: Promise<void> | undefined;
  private stopped = false;
  /** A switch repair in progress, and whether another was asked for meanwhile. */
  private readonly repair = { running: false, again: false };

  constructor(private readonly deps: ActingDeps) {
    this.lostLeadership = new Promise<void>((resolve) => (this.lost = resolve));
    const { hypervisor, reconciler, controller, config, logger } = deps;
    // A domain changed: the VM it belongs to looks again (a domain of no VM we know is not ours).
    const changed = (domainName: string): void => {
      const key = vmKeyForDomain(domainName);
      if (this.known(key)) controller.enqueue(key);
    };
    this.events = new DomainEventRouter(hypervisor, changed, (d) => reconciler.lastObservedState(d), (d, fn) => reconciler.whenSettled(d, fn));
    // --poll is the pace where no events come (a driver without them, or their registration failed).
    const pollEvery = (): number => (hypervisor.eventsDelivered() ? Math.max(config.pollMs, SAFETY_NET_POLL_MS) : config.pollMs);
    this.poller = new DomainPoller(hypervisor, pollEvery, changed, logger,
      (domainName) => reconciler.lastObservedActivity(domainName), (id) => reconciler.nameOfDomainId(id));
  }

  /** Whether this replica acts now (under leader election: leads); only then may it write. */
  get isActing(): boolean {
    return this.acting;
  }

  /** Acts at once, or (leader election) starts competing for the lease and acts while leading. */
  async start(): Promise<void> {
    const { config, mode, logger, hypervisor } = this.deps;
    this.resyncTimer = setInterval(() => void this.resync(), config.resyncMs);
    this.resyncTimer.unref();
    hypervisor.onReconnect(() => {
      if (!this.acting) return;
      this.poller.pollNow(); // events of the outage were lost with the connection
      void this.resync();
    });
    const lease = config.kube?.leaderElection;
    if (!lease || mode.name !== 'kube') return this.startActing();
    // Loaded here: file mode never needs the Kubernetes client (src/main.ts, makeMode).
    const [{ LeaseElector }, { loadKubeConfig }] = await Promise.all([import('../adapters/kube-lease-elector.js'), import('../modes/kube-mode.js')]);
    const elector = new LeaseElector({ kubeConfig: loadKubeConfig(config.kube?.kubeconfig), ...lease, logger });
    this.election = elector.run({
      // A leader that cannot start (libvirt down at takeover) gives up: holding the lease while
      // doing nothing would keep the standby from taking over.
      onStartedLeading: () => void this.startActing().catch((err) => {
        logger.error('could not start acting; giving up the lease', { error: errorMessage(err) });
        void this.stopActing().then(() => this.lost());
      }),
      // A replica that loses the lease stops acting at once; the process then exits (run).
      onStoppedLeading: () => void this.stopActing().then(() => { if (!this.leaderAbort.signal.aborted) this.lost(); }),
    }, this.leaderAbort.signal);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    // In-flight reconciles finish before the lease is handed over, so no two replicas overlap.
    await this.stopActing();
    this.leaderAbort.abort();
    await this.election; // releases the lease
  }

  /**
   * Enqueues every known resource; first, on a switch, repairs what drifted there, and reads
   * every domain in one listing, whose snapshots the resync's reconciles then look at (one native
   * call for the host instead of three calls a VM; still fresh from libvirt on every resync).
   */
  async resync(): Promise<void> {
    const { hypervisor, logger } = this.deps;
    const listed = !this.acting ? undefined : hypervisor.listDomainsForResync().catch((err) => logger.debug('listing domains for the resync failed; each VM reads its own', { error: errorMessage(err) }));
    await Promise.all([this.syncSwitch(), listed]);
    this.enqueueAll();
  }

  /**
   * The switch is back after an outage (a restarted ovs-vswitchd has no flow and no meter left):
   * the base flows, then every station and slice, at once. Retried with backoff while the
   * restarted daemon settles (its ports come back a moment after it answers).
   */
  repairSwitch(): void {
    if (this.repair.running) {
      this.repair.again = true;
      return;
    }
    this.repair.running = true;
    void (async () => {
      let delay = 250;
      do {
        this.repair.again = false;
        while (!this.stopped && !(await this.syncSwitch())) {
          await new Promise((r) => setTimeout(r, delay).unref());
          delay = Math.min(5_000, delay * 2);
        }
      } while (this.repair.again && !this.stopped);
      this.repair.running = false;
      this.enqueueAll();
    })();
  }

  /** Base flows, a fresh dump (drift: a flow or meter deleted by hand), orphans removed; false if that failed. */
  private async syncSwitch(): Promise<boolean> {
    const { datapath, switchWatch, logger } = this.deps;
    if (!datapath) return true;
    // The outage was reported once by the watch; every resync failing meanwhile would repeat it.
    if (switchWatch?.unreachableBecause) return false;
    try {
      await datapath.ensureBase();
      await datapath.refresh();
      await this.removeOrphanPaths();
      return true;
    } catch (err) {
      logger.warn('switch resync failed', { error: errorMessage(err) });
      return false;
    }
  }

  private async startActing(): Promise<void> {
    const { controller, clients, logger } = this.deps;
    this.acting = true;
    this.deps.mode.startWriting?.(); // a standby wrote nothing; the leader adds finalizers
    this.events.start(); // before the survey: nothing that happens from then on is missed
    await this.survey();
    await this.poller.tick();
    controller.start();
    clients.start();
    this.deps.pools?.start();
    await this.removeOrphanPaths().catch((err) => logger.warn('removing orphan paths failed', { error: errorMessage(err) }));
    this.enqueueAll();
    this.poller.start();
  }

  private async stopActing(): Promise<void> {
    if (!this.acting) return;
    this.acting = false;
    this.deps.mode.stopWriting?.();
    this.events.stop();
    await this.poller.stop();
    await Promise.all([this.deps.controller.stop(), this.deps.clients.stop(), this.deps.pools?.stop()]);
  }

  /**
   * Allocations come back from status and domain metadata before reconciling, so a restart (or
   * a standby taking over) never hands out one MAC or VLAN twice; the same listing refreshes
   * the libvirt adapter's view of which domains exist. Only this controller's own domains in
   * the namespaces it watches are looked at again; they are deleted only through the gate.
   */
  private async survey(): Promise<void> {
    const { statuses, hypervisor, macs, vlans, mode, identity } = this.deps;
    for (const object of statuses.list(VM_KIND)) {
      const key = resourceKey(VM_KIND, object.metadata.namespace, object.metadata.name);
      const { mac, vlan } = object.status?.allocations ?? {};
      if (mac) macs.claim(key, mac);
      if (vlan !== undefined) vlans.claim(key, vlan);
      const ip = object.status?.allocations?.ip;
      if (ip) this.deps.rememberIp?.(key, object.metadata.uid, ip);
    }
    for (const domain of await hypervisor.listDomainsForResync()) {
      const owner = parseDomainXml(domain.persistentXml).owner;
      if (!owner || domainNameFor(owner.namespace, owner.name) !== domain.name) continue;
      const key = resourceKey(VM_KIND, owner.namespace, owner.name);
      if (owner.mac && !macs.get(key)) macs.claim(key, owner.mac);
      if (owner.vlan !== undefined && vlans.get(key) === undefined) vlans.claim(key, owner.vlan);
      // Every wimaxvm domain on this libvirt, another controller's too: its address is taken.
      if (owner.ip !== undefined) this.deps.rememberIp?.(key, owner.uid, owner.ip);
      const ours = ownershipOf(owner, owner.namespace, owner.name, identity, false).kind === 'ours';
      if (ours && (!mode.namespace || owner.namespace === mode.namespace)) this.ownedDomains.add(key);
    }
  }

  /** Paths on the switch of stations no client declares and of VLANs no VM holds (gone while we were down). */
  private async removeOrphanPaths(): Promise<void> {
    const { datapath, clientIndex, vlans, logger } = this.deps;
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
  }

  private known(key: ResourceKey): boolean {
    return this.deps.store.has(key) || this.deps.statuses.get(key) !== undefined || this.ownedDomains.has(key);
  }

  private enqueueAll(): void {
    const { store, statuses, controller, clients } = this.deps;
    // Each key once: a key enqueued again while a worker has it would be reconciled twice.
    const vms = new Set<ResourceKey>();
    for (const key of store.keys()) {
      if (key.startsWith(`${VM_KIND}/`)) vms.add(key);
      else if (key.startsWith(`${CLIENT_KIND}/`)) clients.enqueue(key);
      else if (key.startsWith('IPPool/')) this.deps.pools?.enqueue(key);
    }
    // What an earlier run created and is no longer declared: the deletion gate decides.
    for (const object of statuses.list(VM_KIND)) vms.add(resourceKey(VM_KIND, object.metadata.namespace, object.metadata.name));
    for (const object of statuses.list(CLIENT_KIND)) clients.enqueue(resourceKey(CLIENT_KIND, object.metadata.namespace, object.metadata.name));
    for (const object of statuses.list('IPPool')) this.deps.pools?.enqueue(resourceKey('IPPool', object.metadata.namespace, object.metadata.name));
    // Kept until gone, so a withheld deletion is looked at again at every resync; one whose
    // domain a reconcile saw gone needs no more libvirt lookups.
    for (const key of this.ownedDomains) {
      const { namespace, name } = parseResourceKey(key);
      if (this.deps.reconciler.lastObservedActivity(domainNameFor(namespace, name)) === 'absent') this.ownedDomains.delete(key);
      else vms.add(key);
    }
    for (const key of vms) controller.enqueue(key);
  }
}
