// The Hypervisor port on libvirt through wimaxvm's own binding (N-API, in process: no virsh
// spawned). The parts: the kept connection (reconnect), error classification, domain calls with
// their handle cache, events; this class puts them together behind the port.
import { existsSync } from 'node:fs';
import type { Logger } from '../../core/logger.js';
import { assertPermit, type DeletionPermit } from '../../core/deletion-gate.js';
import {
  HypervisorNotFoundError, type BlockStatistics, type DhcpHost, type DomainActivity, type DomainSnapshot, type DomainStateInfo, type DomainView,
  type Hypervisor, type HypervisorEvent, type Impact, type InterfaceStatistics, type NetworkInfo, type NodeFigures,
} from '../../ports/hypervisor.js';
import type { DomainMigration, MigrationOptions, MigrationProgress } from '../../ports/migration.js';
import { KeptConnection } from './connection.js';
import { DomainCalls } from './domains.js';
import { classify, toPortError } from './errors.js';
import { DomainEvents } from './events.js';
import { dhcpHostXml } from './network-xml.js';

export interface LibvirtHypervisorOptions {
  uri: string;
  logger: Logger;
  /** kvm | qemu | test; default: test for test:// URIs, kvm where /dev/kvm exists, else qemu. */
  domainType?: 'kvm' | 'qemu' | 'test';
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

export function defaultDomainType(uri: string): 'kvm' | 'qemu' | 'test' {
  if (uri.startsWith('test')) return 'test';
  return existsSync('/dev/kvm') ? 'kvm' : 'qemu';
}

export class LibvirtHypervisor implements Hypervisor, DomainMigration {
  readonly uri: string;
  private readonly type: 'kvm' | 'qemu' | 'test';
  private readonly conn: KeptConnection;
  private readonly domains: DomainCalls;
  private readonly events: DomainEvents;

  constructor(opts: LibvirtHypervisorOptions) {
    this.uri = opts.uri;
    this.type = opts.domainType ?? defaultDomainType(opts.uri);
    this.conn = new KeptConnection(opts);
    this.domains = new DomainCalls(this.conn, () => this.eventsDelivered());
    // Any event about a domain (a metadata change too) means a listing's read of it is out of date.
    this.events = new DomainEvents(opts.logger, (name) => this.domains.changed(name));
    this.conn.onOpen((c) => {
      this.domains.reset();
      return this.events.attach(c);
    });
    this.conn.onLost((reason) => {
      this.domains.reset();
      this.events.connectionLost(reason);
    });
    // Our view of which domains exist follows what happens behind our back, too.
    this.events.subscribe((e) => {
      if (e.kind !== 'lifecycle') return;
      if (e.event === 'undefined') this.domains.forget(e.domain);
      else if (e.event === 'defined') this.domains.noteDefined(e.domain);
    });
  }

  // ---- connection ----

  connect(): Promise<void> {
    return this.conn.connect();
  }

  connectOrWait(): Promise<'connected' | 'waiting'> {
    return this.conn.connectOrWait();
  }

  whenConnected(signal: AbortSignal): Promise<void> {
    return this.conn.whenConnected(signal);
  }

  get unreachableBecause(): string | undefined {
    return this.conn.unreachableBecause;
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  onReconnect(listener: () => void): void {
    this.conn.onReconnect(listener);
  }

  domainType(): 'kvm' | 'qemu' | 'test' {
    return this.type;
  }

  // ---- looking ----

  getDomain(name: string, fresh = false): Promise<DomainSnapshot | undefined> {
    return this.domains.get(name, fresh);
  }

  getDomainView(name: string): Promise<DomainView | undefined> {
    return this.domains.view(name);
  }

  async domainState(name: string): Promise<DomainStateInfo | undefined> {
    try {
      const { state, reason } = await this.domains.on(name, 'state of', (d) => d.getState());
      return { state, reason };
    } catch (err) {
      if (err instanceof HypervisorNotFoundError) return undefined;
      throw err;
    }
  }

  listDomains(): Promise<DomainSnapshot[]> {
    return this.domains.list();
  }

  /**
   * Every domain, fresh, for a resync (or the start-up) about to look at each: each snapshot
   * also answers the next getDomain of it, once, unless an event or a call of ours touched the
   * domain since (src/adapters/libvirt/domain-survey.ts). Other listings serve no look, so no
   * look is ever answered by a listing older than the resync that made it.
   */
  listDomainsForResync(): Promise<DomainSnapshot[]> {
    return this.domains.list(true);
  }

  activity(): Promise<DomainActivity> {
    return this.domains.activity();
  }

  nameOfActiveDomain(id: number): Promise<string | undefined> {
    return this.domains.nameOfActive(id);
  }

  subscribe(listener: (event: HypervisorEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  eventsDelivered(): boolean {
    return this.conn.connected && this.events.delivered;
  }

  // ---- power ----

  define(xml: string): Promise<void> {
    return this.domains.define(xml);
  }

  start(name: string): Promise<void> {
    return this.domains.on(name, 'start', (d) => d.create());
  }

  shutdown(name: string): Promise<void> {
    return this.domains.on(name, 'shutdown', (d) => d.shutdown());
  }

  destroy(name: string): Promise<void> {
    return this.domains.on(name, 'destroy', (d) => d.destroy());
  }

  async undefine(name: string, permit: DeletionPermit): Promise<void> {
    assertPermit(permit, name, { hostUri: this.uri });
    // Its managed-save image goes with it (libvirt refuses to undefine a saved domain otherwise).
    await this.domains.on(name, 'undefine', (d) => d.undefine({ managedSave: true }));
    this.domains.forget(name);
  }

  suspend(name: string): Promise<void> {
    return this.domains.on(name, 'suspend', (d) => d.suspend());
  }

  /** DomainMigration (src/ports/migration.ts): the source keeps its (now shut off) definition. */
  async migrate(name: string, destUri: string, opts: MigrationOptions = {}): Promise<void> {
    await this.domains.on(name, 'migrate', (d) => d.migrateToUri3(destUri, {
      ...(opts.migrateUri ? { migrateUri: opts.migrateUri } : {}),
      ...(opts.bandwidthMiBs ? { bandwidthMiBs: opts.bandwidthMiBs } : {}),
    }, { live: true, peer2peer: true, persistDest: true, ...(opts.sharedStorage ? { unsafe: true } : {}) }));
  }

  /** DomainMigration: whether the domain has a persistent definition here (survives its stop). */
  isPersistent(name: string): Promise<boolean> {
    return this.domains.on(name, 'persistence of', (d) => d.isPersistent());
  }

  /** DomainMigration: libvirt's job figures of the domain's migration in progress. */
  async migrationProgress(name: string): Promise<MigrationProgress | undefined> {
    const job = await this.domains.on(name, 'job info of', (d) => d.getJobInfo());
    if (job.type === 0 || job.dataTotal === 0) return undefined; // VIR_DOMAIN_JOB_NONE, or not started moving
    return { processedBytes: job.dataProcessed, remainingBytes: job.dataRemaining, totalBytes: job.dataTotal, elapsedMs: job.timeElapsedMs };
  }

  resume(name: string): Promise<void> {
    return this.domains.on(name, 'resume', (d) => d.resume());
  }

  // ---- changes without redefining ----

  setMetadata(name: string, uri: string, key: string, xml: string | null, impact?: Impact): Promise<void> {
    return this.domains.on(name, 'set metadata of', (d) => d.setMetadataElement(uri, key, xml, impact));
  }

  getMetadata(name: string, uri: string, impact?: Impact): Promise<string | undefined> {
    return this.domains.on(name, 'get metadata of', (d) => d.getMetadataElement(uri, impact));
  }

  setMemory(name: string, kib: number, impact?: Impact): Promise<void> {
    return this.domains.on(name, 'set memory of', (d) => d.setMemory(kib, impact));
  }

  setVcpus(name: string, count: number, impact?: Impact): Promise<void> {
    return this.domains.on(name, 'set vcpus of', (d) => d.setVcpus(count, impact));
  }

  attachDevice(name: string, xml: string, impact?: Impact): Promise<void> {
    return this.domains.on(name, 'attach a device to', (d) => d.attachDevice(xml, impact));
  }

  detachDevice(name: string, xml: string, impact?: Impact): Promise<void> {
    return this.domains.on(name, 'detach a device from', (d) => d.detachDevice(xml, impact));
  }

  managedSave(name: string): Promise<void> {
    return this.domains.on(name, 'save', (d) => d.managedSave());
  }

  hasManagedSave(name: string): Promise<boolean> {
    return this.domains.on(name, 'look for a saved state of', (d) => d.hasManagedSave());
  }

  removeManagedSave(name: string): Promise<void> {
    return this.domains.on(name, 'remove the saved state of', (d) => d.managedSaveRemove());
  }

  // ---- figures ----

  async interfaceStats(name: string, device: string): Promise<InterfaceStatistics> {
    const s = await this.domains.on(name, 'interface statistics of', (d) => d.interfaceStats(device));
    return { rxBytes: s.rxBytes, rxPackets: s.rxPackets, rxErrors: s.rxErrs, rxDropped: s.rxDrop, txBytes: s.txBytes, txPackets: s.txPackets, txErrors: s.txErrs, txDropped: s.txDrop };
  }

  async blockStats(name: string, device: string): Promise<BlockStatistics> {
    const s = await this.domains.on(name, 'block statistics of', (d) => d.blockStats(device));
    return { readRequests: s.rdReq, readBytes: s.rdBytes, writeRequests: s.wrReq, writeBytes: s.wrBytes, errors: s.errs };
  }

  async nodeFigures(): Promise<NodeFigures> {
    const [info, freeMemoryBytes] = await Promise.all([this.conn.call((c) => c.nodeInfo()), this.conn.call((c) => c.nodeFreeMemory())]);
    return { memoryKiB: info.memoryKiB, freeMemoryBytes, cpus: info.cpus };
  }

  // ---- networks ----

  async getNetwork(name: string): Promise<NetworkInfo | undefined> {
    try {
      const network = await this.conn.call((c) => c.lookupNetworkByName(name));
      const [active, xml] = await Promise.all([this.conn.call(() => network.isActive()), this.conn.call(() => network.getXmlDesc())]);
      return { name: network.name, uuid: network.uuid, active, xml };
    } catch (err) {
      if (classify(err) === 'absent') return undefined;
      throw toPortError(err, `network ${name}`);
    }
  }

  async updateDhcpHost(network: string, change: 'add' | 'modify' | 'delete', host: DhcpHost, impact?: Impact): Promise<void> {
    try {
      const net = await this.conn.call((c) => c.lookupNetworkByName(network));
      await this.conn.call(() => net.update(change === 'add' ? 'add-last' : change, 'ip-dhcp-host', dhcpHostXml(host), impact));
    } catch (err) {
      throw toPortError(err, `${change} DHCP host ${host.mac} of network ${network}`);
    }
  }
}
