// The Hypervisor port over every declared host: a call about a domain goes to the host its VM is
// placed on (the placement step's choice in this reconcile, else the VM's status.nodeName), the
// controller's own connection otherwise. So the VM reconciler and its steps, written for one
// host, drive many. What is not about one domain (activity for the poller, networks, node
// figures) stays with the own connection; the other hosts' domain events come through
// subscribe, their lost connections do not (each host's Hypervisor says Ready=False instead).
import { resourceKey } from '../api/meta.js';
import { resourceNameForDomain, VM_KIND } from '../api/virtual-machine.js';
import type { DeletionPermit } from '../core/deletion-gate.js';
import {
  HypervisorUnavailableError, type BlockStatistics, type DhcpHost, type DomainActivity, type DomainSnapshot, type DomainStateInfo,
  type Hypervisor, type HypervisorEvent, type Impact, type InterfaceStatistics, type NetworkInfo, type NodeFigures,
} from '../ports/hypervisor.js';
import type { StatusStore } from '../ports/status-store.js';
import type { DomainMigration, MigrationOptions } from '../ports/migration.js';
import type { HostConnections } from './host-connections.js';

export class PlacedHypervisor<C extends Hypervisor & { connected: boolean; unreachableBecause: string | undefined }> implements Hypervisor {
  readonly uri: string;
  /** Domain name → host, as the placement step decided in a reconcile (before status says it). */
  private readonly assigned = new Map<string, string>();

  constructor(
    private readonly local: Hypervisor,
    private readonly localHost: () => string | undefined,
    private readonly hosts: HostConnections<C & import('./host-connections.js').HostConnection>,
    private readonly statuses: StatusStore,
    /** How the own connection migrates (the adapter behind `local`). */
    private readonly localMigration?: DomainMigration,
  ) {
    this.uri = local.uri;
  }

  /** The placement step's decision for a domain, so that this reconcile's define and start go there. */
  assign(domainName: string, host: string): void {
    this.assigned.set(domainName, host);
  }

  /** The placements decided in reconciles so far (domain name → host). */
  assignments(): ReadonlyMap<string, string> {
    return this.assigned;
  }

  /** The host a domain's VM is placed on (undefined: the own connection). */
  hostOf(domainName: string): string | undefined {
    const assigned = this.assigned.get(domainName);
    if (assigned) return assigned;
    const { namespace, name } = resourceNameForDomain(domainName);
    return (this.statuses.get(resourceKey(VM_KIND, namespace, name))?.status as { nodeName?: string } | undefined)?.nodeName;
  }

  private on(domainName: string): Hypervisor {
    const host = this.hostOf(domainName);
    if (!host || host === this.localHost()) return this.local;
    const conn = this.hosts.get(host);
    if (!conn?.connected) throw new HypervisorUnavailableError(`hypervisor ${host} is not connected${conn?.unreachableBecause ? ` (${conn.unreachableBecause})` : ''}`);
    return conn;
  }

  private others(): C[] {
    const local = this.localHost();
    return this.hosts.names().filter((n) => n !== local).map((n) => this.hosts.get(n)!).filter((c) => c.connected);
  }

  /** Live-migrates the domain from host `from` to `destUri` (the port's DomainMigration on the source's connection). */
  async migrate(domainName: string, from: string, destUri: string, opts?: MigrationOptions): Promise<void> {
    const source = (from === this.localHost() ? this.localMigration : this.hosts.get(from)) as Partial<DomainMigration> | undefined;
    if (!source?.migrate) throw new Error(`hypervisor ${from} cannot migrate guests`);
    await source.migrate(domainName, destUri, opts);
  }

  domainType(): 'kvm' | 'qemu' | 'test' { return this.local.domainType(); }
  getDomain(name: string, fresh?: boolean): Promise<DomainSnapshot | undefined> { return this.on(name).getDomain(name, fresh); }
  domainState(name: string): Promise<DomainStateInfo | undefined> { return this.on(name).domainState(name); }

  /** Every host's domains (names are testbed-wide); hosts that do not answer are left out. */
  async listDomains(): Promise<DomainSnapshot[]> {
    const lists = await Promise.all([this.local.listDomains(), ...this.others().map((c) => c.listDomains().catch(() => []))]);
    return lists.flat();
  }

  activity(): Promise<DomainActivity> { return this.local.activity(); }
  nameOfActiveDomain(id: number): Promise<string | undefined> { return this.local.nameOfActiveDomain(id); }

  subscribe(listener: (event: HypervisorEvent) => void): () => void {
    const off = [this.local.subscribe(listener)];
    for (const name of this.hosts.names().filter((n) => n !== this.localHost())) {
      off.push(this.hosts.get(name)!.subscribe((e) => { if (e.kind !== 'connection-closed') listener(e); }));
    }
    return () => off.forEach((f) => f());
  }

  eventsDelivered(): boolean { return this.local.eventsDelivered(); }

  define(xml: string): Promise<void> {
    const name = /<name>([^<]+)<\/name>/.exec(xml)?.[1];
    return (name ? this.on(name) : this.local).define(xml);
  }

  start(name: string): Promise<void> { return this.on(name).start(name); }
  shutdown(name: string): Promise<void> { return this.on(name).shutdown(name); }
  destroy(name: string): Promise<void> { return this.on(name).destroy(name); }
  undefine(name: string, permit: DeletionPermit): Promise<void> { return this.on(name).undefine(name, permit); }
  suspend(name: string): Promise<void> { return this.on(name).suspend(name); }
  resume(name: string): Promise<void> { return this.on(name).resume(name); }
  setMetadata(name: string, uri: string, key: string, xml: string | null, impact?: Impact): Promise<void> { return this.on(name).setMetadata(name, uri, key, xml, impact); }
  getMetadata(name: string, uri: string, impact?: Impact): Promise<string | undefined> { return this.on(name).getMetadata(name, uri, impact); }
  setMemory(name: string, kib: number, impact?: Impact): Promise<void> { return this.on(name).setMemory(name, kib, impact); }
  setVcpus(name: string, count: number, impact?: Impact): Promise<void> { return this.on(name).setVcpus(name, count, impact); }
  attachDevice(name: string, xml: string, impact?: Impact): Promise<void> { return this.on(name).attachDevice(name, xml, impact); }
  detachDevice(name: string, xml: string, impact?: Impact): Promise<void> { return this.on(name).detachDevice(name, xml, impact); }
  managedSave(name: string): Promise<void> { return this.on(name).managedSave(name); }
  hasManagedSave(name: string): Promise<boolean> { return this.on(name).hasManagedSave(name); }
  removeManagedSave(name: string): Promise<void> { return this.on(name).removeManagedSave(name); }
  interfaceStats(name: string, device: string): Promise<InterfaceStatistics> { return this.on(name).interfaceStats(name, device); }
  blockStats(name: string, device: string): Promise<BlockStatistics> { return this.on(name).blockStats(name, device); }
  nodeFigures(): Promise<NodeFigures> { return this.local.nodeFigures(); }
  getNetwork(name: string): Promise<NetworkInfo | undefined> { return this.local.getNetwork(name); }
  updateDhcpHost(network: string, change: 'add' | 'modify' | 'delete', host: DhcpHost, impact?: Impact): Promise<void> { return this.local.updateDhcpHost(network, change, host, impact); }
}
