// The Hypervisor port over every declared host: a call about a domain goes to the host its VM is
// placed on (the placement step's choice in this reconcile, else the VM's status.nodeName), the
// controller's own connection otherwise. So the VM reconciler and its steps, written for one
// host, drive many. What is not about one domain (activity for the poller, networks, node
// figures) stays with the own connection; the other hosts' domain events come through
// subscribe, their lost connections do not (each host's Hypervisor says Ready=False instead).
import { vmKeyForDomain } from '../api/virtual-machine.js';
import type { DeletionPermit } from '../core/deletion-gate.js';
import {
  HypervisorUnavailableError, type BlockStatistics, type DhcpHost, type DomainActivity, type DomainSnapshot, type DomainStateInfo, type DomainView,
  type Hypervisor, type HypervisorEvent, type Impact, type InterfaceStatistics, type NetworkInfo, type NodeFigures,
} from '../ports/hypervisor.js';
import type { StatusStore } from '../ports/status-store.js';
import type { DomainMigration, MigrationOptions, MigrationProgress } from '../ports/migration.js';
import type { HostConnections } from './host-connections.js';

export class PlacedHypervisor<C extends Hypervisor & { connected: boolean; unreachableBecause: string | undefined }> implements Hypervisor {
  readonly uri: string;
  /** Domain name → host, as the placement step decided in a reconcile (before status says it). */
  private readonly assigned = new Map<string, string>();
  /** Assigned domains undefined through this port since (a VM removed, or one defined again). */
  private readonly undefinedSince = new Set<string>();

  constructor(
    private readonly local: Hypervisor,
    private readonly localHost: () => string | undefined,
    private readonly hosts: HostConnections<C & import('./host-connections.js').HostConnection>,
    private readonly statuses: StatusStore,
    /** How the own connection migrates (the adapter behind `local`). */
    private readonly localMigration?: DomainMigration,
    /** Whether a host is a declared Hypervisor: a nodeName that is not (a DaemonSet-style spec.nodeName) stays on the own connection. */
    private readonly declared: (host: string) => boolean = () => true,
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

  /**
   * Forgets the placements of VMs that are gone: not declared, their domain undefined through
   * this port and their status removed (the removal's last step), so nothing routes by it any
   * more. A domain still defined, or a status still there, keeps its route: the removal may not
   * be done with it.
   */
  prune(declared: (domainName: string) => boolean): void {
    for (const domainName of this.undefinedSince) {
      if (declared(domainName) || this.statusOf(domainName)) continue;
      this.assigned.delete(domainName);
      this.undefinedSince.delete(domainName);
    }
  }

  private statusOf(domainName: string): { nodeName?: string } | undefined {
    return this.statuses.get(vmKeyForDomain(domainName))?.status as { nodeName?: string } | undefined;
  }

  /** The host a domain's VM is placed on (undefined: the own connection). */
  hostOf(domainName: string): string | undefined {
    return this.assigned.get(domainName) ?? this.statusOf(domainName)?.nodeName;
  }

  private on(domainName: string): Hypervisor {
    return this.portOf(this.hostOf(domainName));
  }

  /** One host's own connection (undefined, the own host, or one not declared: the own connection); throws if it is not connected. */
  portOf(host: string | undefined): Hypervisor {
    if (!host || host === this.localHost() || !this.declared(host)) return this.local;
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

  /** Whether the domain's definition on `host` is persistent (false where the host cannot say: no evidence). */
  async isPersistent(domainName: string, host: string): Promise<boolean> {
    const port = (host === this.localHost() ? this.localMigration : this.hosts.get(host)) as Partial<DomainMigration> | undefined;
    return port?.isPersistent ? port.isPersistent(domainName) : false;
  }

  /** The running migration's figures, from the source host (undefined: no job, or the host cannot say). */
  async migrationProgress(domainName: string, from: string): Promise<MigrationProgress | undefined> {
    const source = (from === this.localHost() ? this.localMigration : this.hosts.get(from)) as Partial<DomainMigration> | undefined;
    return source?.migrationProgress?.(domainName);
  }

  domainType(): 'kvm' | 'qemu' | 'test' { return this.local.domainType(); }
  async getDomain(name: string, fresh?: boolean): Promise<DomainSnapshot | undefined> { return this.on(name).getDomain(name, fresh); }
  async getDomainView(name: string): Promise<DomainView | undefined> { return this.on(name).getDomainView(name); }
  async domainState(name: string): Promise<DomainStateInfo | undefined> { return this.on(name).domainState(name); }

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

  async define(xml: string): Promise<void> {
    const name = /<name>([^<]+)<\/name>/.exec(xml)?.[1];
    await (name ? this.on(name) : this.local).define(xml);
    if (name) this.undefinedSince.delete(name);
  }

  async start(name: string): Promise<void> { return this.on(name).start(name); }
  async shutdown(name: string): Promise<void> { return this.on(name).shutdown(name); }
  async destroy(name: string): Promise<void> { return this.on(name).destroy(name); }
  async undefine(name: string, permit: DeletionPermit): Promise<void> {
    await this.on(name).undefine(name, permit);
    if (this.assigned.has(name)) this.undefinedSince.add(name);
  }
  async suspend(name: string): Promise<void> { return this.on(name).suspend(name); }
  async resume(name: string): Promise<void> { return this.on(name).resume(name); }
  async setMetadata(name: string, uri: string, key: string, xml: string | null, impact?: Impact): Promise<void> { return this.on(name).setMetadata(name, uri, key, xml, impact); }
  async getMetadata(name: string, uri: string, impact?: Impact): Promise<string | undefined> { return this.on(name).getMetadata(name, uri, impact); }
  async setMemory(name: string, kib: number, impact?: Impact): Promise<void> { return this.on(name).setMemory(name, kib, impact); }
  async setVcpus(name: string, count: number, impact?: Impact): Promise<void> { return this.on(name).setVcpus(name, count, impact); }
  async attachDevice(name: string, xml: string, impact?: Impact): Promise<void> { return this.on(name).attachDevice(name, xml, impact); }
  async detachDevice(name: string, xml: string, impact?: Impact): Promise<void> { return this.on(name).detachDevice(name, xml, impact); }
  async managedSave(name: string): Promise<void> { return this.on(name).managedSave(name); }
  async hasManagedSave(name: string): Promise<boolean> { return this.on(name).hasManagedSave(name); }
  async removeManagedSave(name: string): Promise<void> { return this.on(name).removeManagedSave(name); }
  async interfaceStats(name: string, device: string): Promise<InterfaceStatistics> { return this.on(name).interfaceStats(name, device); }
  async blockStats(name: string, device: string): Promise<BlockStatistics> { return this.on(name).blockStats(name, device); }
  nodeFigures(): Promise<NodeFigures> { return this.local.nodeFigures(); }
  getNetwork(name: string): Promise<NetworkInfo | undefined> { return this.local.getNetwork(name); }
  updateDhcpHost(network: string, change: 'add' | 'modify' | 'delete', host: DhcpHost, impact?: Impact): Promise<void> { return this.local.updateDhcpHost(network, change, host, impact); }
}
