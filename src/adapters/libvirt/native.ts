// wimaxvm's own libvirt binding (native/libvirt/, an N-API addon): the TypeScript surface of
// /work/notes/libvirt-binding-contract.md. Every call runs on the addon's thread pool and returns
// a Promise; failures are LibvirtError with libvirt's own code; domain events and a connection's
// close come from libvirt's event loop, on a thread of its own.
import { addon, enumNames, enumValue, LibvirtError, type RawConnection, type RawEvent, type RawNetwork } from './native-addon.js';
import { DomainHandle, stateInfo } from './native-domain.js';
import { poolCreateFlags, StoragePoolHandle, StorageVolumeHandle, type StoragePool, type StorageVolume } from './native-storage.js';

export { ErrorCode, LibvirtError } from './native-addon.js';
export { stateInfo, stateName } from './native-domain.js';
export type { StoragePool, StorageVolume } from './native-storage.js';

export type DomainState = 'nostate' | 'running' | 'blocked' | 'paused' | 'shutdown' | 'shutoff' | 'crashed' | 'pmsuspended';
/** reason: libvirt's reason enum name for that state, lower-cased without prefix, '_' → '-' ('destroyed', 'from-snapshot'). */
export interface DomainStateInfo { state: DomainState; reason: string; stateCode: number; reasonCode: number }

export type DomainEvent =
  | { kind: 'lifecycle'; name: string; uuid: string; id: number;
      event: 'defined' | 'undefined' | 'started' | 'suspended' | 'resumed' | 'stopped' | 'shutdown' | 'pmsuspended' | 'crashed';
      detail: string; eventCode: number; detailCode: number }
  | { kind: 'reboot'; name: string; uuid: string; id: number }
  | { kind: 'device-removed'; name: string; uuid: string; id: number; alias: string }
  | { kind: 'metadata-change'; name: string; uuid: string; id: number; type: number; nsuri: string | null };
export type CloseReason = 'error' | 'eof' | 'keepalive' | 'client';

/** A domain as readAllDomains found it: its state and persistent definition, and its live one unless it is shut off. */
export interface SurveyedDomain extends DomainStateInfo { name: string; uuid: string; persistentXml: string; liveXml?: string }

export interface NodeInfo { model: string; memoryKiB: number; cpus: number; mhz: number; nodes: number; sockets: number; cores: number; threads: number }
export interface InterfaceStats { rxBytes: number; rxPackets: number; rxErrs: number; rxDrop: number; txBytes: number; txPackets: number; txErrs: number; txDrop: number }
export interface BlockStats { rdReq: number; rdBytes: number; wrReq: number; wrBytes: number; errs: number }
export interface JobInfo { type: number; timeElapsedMs: number; dataTotal: number; dataProcessed: number; dataRemaining: number; memTotal: number; memProcessed: number; memRemaining: number }
export type ModificationImpact = { live?: boolean; config?: boolean };
export interface DhcpLease { iface: string; expiryTime: number; type: number; mac: string; ipaddr: string; prefix: number; hostname?: string; clientid?: string }

export interface Connection {
  readonly uri: string;
  close(): Promise<void>;
  isAlive(): Promise<boolean>;
  hostname(): Promise<string>;
  libVersion(): Promise<number>;
  nodeInfo(): Promise<NodeInfo>;
  nodeFreeMemory(): Promise<number>;
  listAllDomains(): Promise<Domain[]>;
  listDefinedDomainNames(): Promise<string[]>;
  listActiveDomainIds(): Promise<number[]>;
  /** Added to the contract: every domain with its state and both XMLs, in one call to the pool
   *  (virConnectGetAllDomainStats, then virDomainGetXMLDesc of each); a domain undefined meanwhile is left out. */
  readAllDomains(): Promise<SurveyedDomain[]>;
  lookupDomainByName(name: string): Promise<Domain>;
  lookupDomainById(id: number): Promise<Domain>;
  lookupDomainByUuid(uuid: string): Promise<Domain>;
  defineDomain(xml: string): Promise<Domain>;
  /** Added to the contract: virDomainCreateXML, a transient domain started from XML. */
  createDomain(xml: string, opts?: { paused?: boolean }): Promise<Domain>;
  listAllNetworks(): Promise<Network[]>;
  lookupNetworkByName(name: string): Promise<Network>;
  defineNetwork(xml: string): Promise<Network>;
  createNetwork(xml: string): Promise<Network>;
  /** Added to the contract: virStoragePoolLookupByTargetPath; rejects NO_STORAGE_POOL when no pool is over that directory. */
  lookupStoragePoolByTargetPath(path: string): Promise<StoragePool>;
  /** Added to the contract: virStoragePoolCreateXML, a transient pool, started (`build`: its directory made first). */
  createStoragePool(xml: string, opts?: { build?: boolean }): Promise<StoragePool>;
  /** Added to the contract: virStorageVolLookupByPath; rejects NO_STORAGE_VOL when no active pool holds that file. */
  lookupStorageVolByPath(path: string): Promise<StorageVolume>;
  onDomainEvent(listener: (e: DomainEvent) => void): () => void;
  /** Added to the contract: settles once the event callbacks asked for by onDomainEvent (or
   *  dropped by its unsubscribe) are in place in libvirt; rejects with the LibvirtError if not. */
  eventsReady(): Promise<void>;
  onClose(listener: (reason: CloseReason) => void): void;
}

export interface Domain {
  readonly name: string;
  readonly uuid: string;
  getId(): Promise<number | undefined>;
  getState(): Promise<DomainStateInfo>;
  getInfo(): Promise<{ state: DomainState; maxMemKiB: number; memoryKiB: number; vcpus: number; cpuTimeNs: number }>;
  getXmlDesc(opts?: { inactive?: boolean; secure?: boolean; migratable?: boolean }): Promise<string>;
  isPersistent(): Promise<boolean>;
  /** Added to the contract: virDomainIsActive. */
  isActive(): Promise<boolean>;
  hasManagedSave(): Promise<boolean>;
  create(opts?: { paused?: boolean; forceBoot?: boolean }): Promise<void>;
  shutdown(): Promise<void>;
  reboot(): Promise<void>;
  destroy(opts?: { graceful?: boolean }): Promise<void>;
  undefine(opts?: { managedSave?: boolean; snapshotsMetadata?: boolean; nvram?: boolean; checkpointsMetadata?: boolean }): Promise<void>;
  suspend(): Promise<void>;
  resume(): Promise<void>;
  managedSave(opts?: { running?: boolean; paused?: boolean }): Promise<void>;
  managedSaveRemove(): Promise<void>;
  setMetadataElement(uri: string, key: string, xml: string | null, impact?: ModificationImpact): Promise<void>;
  getMetadataElement(uri: string, impact?: ModificationImpact): Promise<string | undefined>;
  setDescription(text: string | null, impact?: ModificationImpact): Promise<void>;
  /** Added to the contract: the description, undefined when there is none. */
  getDescription(impact?: ModificationImpact): Promise<string | undefined>;
  setMemory(kib: number, opts?: ModificationImpact & { maximum?: boolean }): Promise<void>;
  setVcpus(count: number, opts?: ModificationImpact & { maximum?: boolean; guest?: boolean; hotpluggable?: boolean }): Promise<void>;
  attachDevice(xml: string, impact?: ModificationImpact): Promise<void>;
  detachDevice(xml: string, impact?: ModificationImpact): Promise<void>;
  detachDeviceAlias(alias: string, impact?: ModificationImpact): Promise<void>;
  updateDevice(xml: string, impact?: ModificationImpact): Promise<void>;
  interfaceStats(device: string): Promise<InterfaceStats>;
  blockStats(device: string): Promise<BlockStats>;
  memoryStats(): Promise<Record<string, number>>;
  migrateToUri3(destConnUri: string, params: { migrateUri?: string; destName?: string; destXml?: string; persistentXml?: string; bandwidthMiBs?: number; listenAddress?: string },
                opts?: { live?: boolean; peer2peer?: boolean; persistDest?: boolean; undefineSource?: boolean; nonSharedDisk?: boolean; nonSharedInc?: boolean; tunnelled?: boolean; offline?: boolean; unsafe?: boolean; autoConverge?: boolean }): Promise<void>;
  getJobInfo(): Promise<JobInfo>;
  abortJob(): Promise<void>;
  openConsole(devName?: string, opts?: { force?: boolean; safe?: boolean }): Promise<ConsoleStream>;
}

export interface ConsoleStream {
  onData(listener: (chunk: Buffer) => void): void;
  onEnd(listener: (err?: LibvirtError) => void): void;
  write(chunk: Buffer | string): Promise<void>;
  close(): Promise<void>;
}

export interface Network {
  readonly name: string;
  readonly uuid: string;
  isActive(): Promise<boolean>;
  getXmlDesc(opts?: { inactive?: boolean }): Promise<string>;
  create(): Promise<void>;
  destroy(): Promise<void>;
  undefine(): Promise<void>;
  update(command: 'add-last' | 'add-first' | 'modify' | 'delete', section: string, xml: string, opts?: ModificationImpact & { parentIndex?: number }): Promise<void>;
  dhcpLeases(mac?: string): Promise<DhcpLease[]>;
}

const EVENTS = enumNames('virDomainEventType', 'VIR_DOMAIN_EVENT_');
/** Per lifecycle event, the enum of its details (virDomainEventStoppedDetailType for stopped...). */
const DETAILS = new Map([...EVENTS].map(([code, event]) => {
  const enumName = event === 'pmsuspended' ? 'virDomainEventPMSuspendedDetailType' : `virDomainEvent${event[0]!.toUpperCase()}${event.slice(1)}DetailType`;
  return [code, enumNames(enumName, `VIR_DOMAIN_EVENT_${event.toUpperCase()}_`)];
}));
const CLOSE_REASONS = enumNames('virConnectCloseReason', 'VIR_CONNECT_CLOSE_REASON_') as Map<number, CloseReason>;
const LIST_INACTIVE = enumValue('virConnectListAllDomainsFlags', 'VIR_CONNECT_LIST_DOMAINS_INACTIVE');
const START_PAUSED = enumValue('virDomainCreateFlags', 'VIR_DOMAIN_START_PAUSED');
const NETWORK_XML_INACTIVE = enumValue('virNetworkXMLFlags', 'VIR_NETWORK_XML_INACTIVE');

const FROM_RPC = enumValue('virErrorDomain', 'VIR_FROM_RPC');
const LOST_CODES = new Set(['SYSTEM_ERROR', 'RPC', 'NO_CONNECT', 'INVALID_CONN'].map((c) => enumValue('virErrorNumber', `VIR_ERR_${c}`)));
const INTERNAL_ERROR = enumValue('virErrorNumber', 'VIR_ERR_INTERNAL_ERROR');

/** Added to the contract: whether an error means the connection is gone (daemon dead or
 *  unreachable, keepalive timeout, closed), from codes only. Seen on libvirt 9.0 (test/libvirt-binding/libvirtd.test.ts):
 *  killed mid-call → SYSTEM_ERROR from VIR_FROM_RPC ("Cannot recv data"); every call after →
 *  INTERNAL_ERROR from VIR_FROM_RPC ("client socket is closed"); keepalive timeout → the same. */
export function isConnectionLost(err: unknown): boolean {
  if (!(err instanceof LibvirtError)) return false;
  return LOST_CODES.has(err.code) || (err.code === INTERNAL_ERROR && err.domain === FROM_RPC);
}

/** Which libvirt function each call is, as it is made ('virDomainCreateWithFlags'...): for /metrics counters. One observer. */
export function setCallObserver(fn: ((call: string) => void) | undefined): void {
  callObserver = fn;
  addon.setCallObserver(fn);
}
let callObserver: ((call: string) => void) | undefined;

/** Opens a connection. Keepalive (default 5 s × 3) is set on remote connections so a dead
 *  daemon is noticed even when idle (other drivers ignore it). */
export async function openConnection(uri: string, opts?: { readOnly?: boolean; keepAliveIntervalS?: number; keepAliveCount?: number }): Promise<Connection> {
  return new LibvirtConnection(await addon.openConnection(uri, opts?.readOnly ?? false, opts?.keepAliveIntervalS ?? 5, opts?.keepAliveCount ?? 3));
}

/** A Connection lives until close(): its event sink holds it (as an open socket would). */
class LibvirtConnection implements Connection {
  private readonly domainListeners = new Set<(e: DomainEvent) => void>();
  private readonly closeListeners: ((reason: CloseReason) => void)[] = [];
  private closedBy: CloseReason | undefined;
  private registered = false;
  private eventSync: Promise<void> = Promise.resolve();
  private lastEventSync: Promise<void> = Promise.resolve();

  constructor(private readonly raw: RawConnection) {
    raw.setEventSink((e) => this.dispatch(e));
  }

  get uri(): string { return this.raw.uri; }
  close(): Promise<void> { return this.raw.close(); }
  isAlive(): Promise<boolean> { return this.raw.isAlive(); }
  hostname(): Promise<string> { return this.raw.hostname(); }
  libVersion(): Promise<number> { return this.raw.libVersion(); }
  nodeInfo(): Promise<NodeInfo> { return this.raw.nodeInfo(); }
  nodeFreeMemory(): Promise<number> { return this.raw.nodeFreeMemory(); }
  async listAllDomains(): Promise<Domain[]> { return (await this.raw.listAllDomains(0)).map((d) => new DomainHandle(d)); }
  listDefinedDomainNames(): Promise<string[]> { return this.raw.listDomainNames(LIST_INACTIVE); }
  listActiveDomainIds(): Promise<number[]> { return this.raw.listActiveDomainIds(); }

  async readAllDomains(): Promise<SurveyedDomain[]> {
    const { domains, xmlReads, statesInOneCall } = await this.raw.readAllDomains();
    // The observer heard one call; the counters see every libvirt call the survey made.
    if (callObserver) {
      if (!statesInOneCall) callObserver('virConnectListAllDomains');
      for (let i = 0; i < xmlReads; i++) callObserver('virDomainGetXMLDesc');
      if (!statesInOneCall) for (let i = 0; i < domains.length; i++) callObserver('virDomainGetState');
    }
    return domains.map(({ stateCode, reasonCode, ...d }) => ({ ...d, ...stateInfo(stateCode, reasonCode) }));
  }
  async lookupDomainByName(name: string): Promise<Domain> { return new DomainHandle(await this.raw.lookupDomainByName(name)); }
  async lookupDomainById(id: number): Promise<Domain> { return new DomainHandle(await this.raw.lookupDomainById(id)); }
  async lookupDomainByUuid(uuid: string): Promise<Domain> { return new DomainHandle(await this.raw.lookupDomainByUuid(uuid)); }
  async defineDomain(xml: string): Promise<Domain> { return new DomainHandle(await this.raw.defineDomain(xml)); }
  async createDomain(xml: string, opts?: { paused?: boolean }): Promise<Domain> { return new DomainHandle(await this.raw.createDomain(xml, opts?.paused ? START_PAUSED : 0)); }
  async listAllNetworks(): Promise<Network[]> { return (await this.raw.listAllNetworks(0)).map((n) => new NetworkHandle(n)); }
  async lookupNetworkByName(name: string): Promise<Network> { return new NetworkHandle(await this.raw.lookupNetworkByName(name)); }
  async defineNetwork(xml: string): Promise<Network> { return new NetworkHandle(await this.raw.defineNetwork(xml)); }
  async createNetwork(xml: string): Promise<Network> { return new NetworkHandle(await this.raw.createNetwork(xml)); }
  async lookupStoragePoolByTargetPath(path: string): Promise<StoragePool> { return new StoragePoolHandle(await this.raw.lookupStoragePoolByTargetPath(path)); }
  async createStoragePool(xml: string, opts?: { build?: boolean }): Promise<StoragePool> { return new StoragePoolHandle(await this.raw.createStoragePool(xml, poolCreateFlags(opts))); }
  async lookupStorageVolByPath(path: string): Promise<StorageVolume> { return new StorageVolumeHandle(await this.raw.lookupStorageVolByPath(path)); }

  onDomainEvent(listener: (e: DomainEvent) => void): () => void {
    this.domainListeners.add(listener);
    this.syncEventCallbacks();
    return () => {
      if (this.domainListeners.delete(listener)) this.syncEventCallbacks();
    };
  }

  eventsReady(): Promise<void> { return this.lastEventSync; }

  onClose(listener: (reason: CloseReason) => void): void {
    if (this.closedBy) queueMicrotask(() => listener(this.closedBy!));
    else this.closeListeners.push(listener);
  }

  /** libvirt's callbacks are registered while someone listens, one change at a time. */
  private syncEventCallbacks(): void {
    const step = this.eventSync.then(async () => {
      const want = this.domainListeners.size > 0;
      if (want === this.registered) return;
      await (want ? this.raw.enableDomainEvents() : this.raw.disableDomainEvents());
      this.registered = want;
    });
    this.eventSync = step.catch(() => undefined);
    step.catch(() => undefined); // eventsReady() reports it; nobody else has to
    this.lastEventSync = step;
  }

  private dispatch(e: RawEvent): void {
    if (e.kind === 'close') {
      if (this.closedBy) return;
      this.closedBy = CLOSE_REASONS.get(e.reasonCode) ?? 'error';
      this.notify(this.closeListeners.splice(0), this.closedBy);
      return;
    }
    const event: DomainEvent = e.kind === 'lifecycle'
      ? { ...e, event: (EVENTS.get(e.eventCode) ?? String(e.eventCode)) as Extract<DomainEvent, { kind: 'lifecycle' }>['event'], detail: DETAILS.get(e.eventCode)?.get(e.detailCode) ?? String(e.detailCode) }
      : e;
    this.notify([...this.domainListeners], event);
  }

  /** Every listener hears it; the first that threw is rethrown after (as an uncaught exception). */
  private notify<T>(listeners: ((v: T) => void)[], value: T): void {
    let failure: { err: unknown } | undefined;
    for (const l of listeners) {
      try {
        l(value);
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }
}

const UPDATE_FLAGS = { live: enumValue('virNetworkUpdateFlags', 'VIR_NETWORK_UPDATE_AFFECT_LIVE'), config: enumValue('virNetworkUpdateFlags', 'VIR_NETWORK_UPDATE_AFFECT_CONFIG') };

class NetworkHandle implements Network {
  readonly name: string;
  readonly uuid: string;

  constructor(private readonly raw: RawNetwork) {
    this.name = raw.name;
    this.uuid = raw.uuid;
  }

  isActive(): Promise<boolean> { return this.raw.isActive(); }
  getXmlDesc(opts?: { inactive?: boolean }): Promise<string> { return this.raw.getXmlDesc(opts?.inactive ? NETWORK_XML_INACTIVE : 0); }
  create(): Promise<void> { return this.raw.create(); }
  destroy(): Promise<void> { return this.raw.destroy(); }
  undefine(): Promise<void> { return this.raw.undefine(); }
  dhcpLeases(mac?: string): Promise<DhcpLease[]> { return this.raw.dhcpLeases(mac ?? null); }

  update(command: 'add-last' | 'add-first' | 'modify' | 'delete', section: string, xml: string, opts?: ModificationImpact & { parentIndex?: number }): Promise<void> {
    const upper = (s: string): string => s.toUpperCase().replaceAll('-', '_');
    const flags = (opts?.live ? UPDATE_FLAGS.live : 0) | (opts?.config ? UPDATE_FLAGS.config : 0);
    return this.raw.update(enumValue('virNetworkUpdateCommand', `VIR_NETWORK_UPDATE_COMMAND_${upper(command)}`), enumValue('virNetworkUpdateSection', `VIR_NETWORK_SECTION_${upper(section)}`), opts?.parentIndex ?? -1, xml, flags);
  }
}
