// What the reconcilers need of a hypervisor, in libvirt's own plain data (names, states, XML).
// Adapters: LibvirtHypervisor (src/adapters/libvirt); tests: FakeHypervisor (test/fakes).
import type { DeletionPermit } from '../core/deletion-gate.js';

export type DomainState =
  | 'nostate' | 'running' | 'blocked' | 'paused' | 'shutdown' | 'shutoff' | 'crashed' | 'pmsuspended';

/**
 * Why the domain is in its state, as libvirt names it (lower case, '-' for '_'): for shutoff
 * 'shutdown' (the guest powered off), 'destroyed', 'crashed', 'failed', 'saved', 'migrated',
 * 'from-snapshot', 'daemon' or 'unknown'; for running 'booted', 'restored', 'unpaused', ...
 */
export type StateReason = string;

export interface DomainStateInfo {
  state: DomainState;
  reason: StateReason;
}

/** A domain as it is now: everything in a DomainSnapshot but its persistent definition. */
export interface DomainView {
  name: string;
  uuid: string;
  /** Present while the domain is active. */
  id?: number;
  state: DomainState;
  reason: StateReason;
  /** The running configuration, when the domain is active. */
  liveXml?: string;
}

export interface DomainSnapshot extends DomainView {
  /** The persistent definition (VIR_DOMAIN_XML_INACTIVE). */
  persistentXml: string;
}

/** Cheap view of every domain's activity, for noticing changes made behind our back. */
export interface DomainActivity {
  /** Names of defined, inactive domains. */
  inactive: string[];
  /** Ids of active domains. */
  activeIds: number[];
}

export type LifecycleEvent =
  | 'defined' | 'undefined' | 'started' | 'suspended' | 'resumed' | 'stopped' | 'shutdown' | 'pmsuspended' | 'crashed';

/** What happened on the hypervisor, as it happened (libvirt's event loop). */
export type HypervisorEvent =
  /** detail: libvirt's detail name for the event, e.g. stopped → 'destroyed' | 'shutdown' | 'crashed' | 'failed' | 'saved' ... */
  | { kind: 'lifecycle'; domain: string; event: LifecycleEvent; detail: string }
  | { kind: 'reboot'; domain: string }
  | { kind: 'device-removed'; domain: string; alias: string }
  /** The connection closed under us; events resume after the reconnect (which is announced separately). */
  | { kind: 'connection-closed'; reason: string };

/** Where a change applies: the running guest, the persistent definition, or both. Neither: whichever the domain is (libvirt's "current"). */
export interface Impact {
  live?: boolean;
  config?: boolean;
}

export interface InterfaceStatistics { rxBytes: number; rxPackets: number; rxErrors: number; rxDropped: number; txBytes: number; txPackets: number; txErrors: number; txDropped: number }
export interface BlockStatistics { readRequests: number; readBytes: number; writeRequests: number; writeBytes: number; errors: number }

/** What placement needs to know of the host. */
export interface NodeFigures {
  memoryKiB: number;
  freeMemoryBytes: number;
  cpus: number;
}

export interface NetworkInfo {
  name: string;
  uuid: string;
  active: boolean;
  xml: string;
}

/** A fixed DHCP lease of a libvirt network (<host mac= ip= name=/>). */
export interface DhcpHost {
  mac: string;
  ip: string;
  name?: string;
}

export interface Hypervisor {
  readonly uri: string;
  /** The domain type to define guests with on this connection: kvm, qemu (emulation) or test. */
  domainType(): 'kvm' | 'qemu' | 'test';
  /**
   * The domain's state and XML. An adapter may answer "absent" from what it already knows
   * (its own defines and the last listing); `fresh` asks libvirt itself.
   */
  getDomain(name: string, fresh?: boolean): Promise<DomainSnapshot | undefined>;
  /**
   * The domain as it is now without its persistent definition: state and, while active, the live
   * XML (one or two calls where getDomain makes two or three). For the look right after acting on
   * a domain, whose definition is the one just defined. undefined when absent.
   */
  getDomainView(name: string): Promise<DomainView | undefined>;
  /** The state and its reason only (one call); undefined when absent. */
  domainState(name: string): Promise<DomainStateInfo | undefined>;
  listDomains(): Promise<DomainSnapshot[]>;
  activity(): Promise<DomainActivity>;
  /** The name of an active domain, by id (for ids activity() has not seen before). */
  nameOfActiveDomain(id: number): Promise<string | undefined>;
  /**
   * Hypervisor events as they happen; returns the unsubscribe. Whether they are delivered at all
   * (some drivers have none) says eventsDelivered().
   */
  subscribe(listener: (event: HypervisorEvent) => void): () => void;
  /** False while the driver delivers no domain events: changes must then be polled for. */
  eventsDelivered(): boolean;
  define(xml: string): Promise<void>;
  start(name: string): Promise<void>;
  shutdown(name: string): Promise<void>;
  destroy(name: string): Promise<void>;
  /** Deletes the domain's definition, and its managed-save image: only with the deletion gate's permit for it. */
  undefine(name: string, permit: DeletionPermit): Promise<void>;
  suspend(name: string): Promise<void>;
  resume(name: string): Promise<void>;
  /** Sets (xml) or removes (null) a metadata element under namespace `uri`, without redefining the domain. */
  setMetadata(name: string, uri: string, key: string, xml: string | null, impact?: Impact): Promise<void>;
  /** The metadata element under `uri`, undefined when there is none. */
  getMetadata(name: string, uri: string, impact?: Impact): Promise<string | undefined>;
  setMemory(name: string, kib: number, impact?: Impact): Promise<void>;
  setVcpus(name: string, count: number, impact?: Impact): Promise<void>;
  attachDevice(name: string, xml: string, impact?: Impact): Promise<void>;
  detachDevice(name: string, xml: string, impact?: Impact): Promise<void>;
  /** Saves the running guest's memory and stops it; the next start restores it. */
  managedSave(name: string): Promise<void>;
  hasManagedSave(name: string): Promise<boolean>;
  removeManagedSave(name: string): Promise<void>;
  /** Counters of a guest NIC, by its target device (vnet3) or MAC. */
  interfaceStats(name: string, device: string): Promise<InterfaceStatistics>;
  /** Counters of a guest disk, by its target (vda) or source path. */
  blockStats(name: string, device: string): Promise<BlockStatistics>;
  nodeFigures(): Promise<NodeFigures>;
  /** undefined when absent. */
  getNetwork(name: string): Promise<NetworkInfo | undefined>;
  /** Adds, changes or removes a fixed DHCP host of the network's first IP range. */
  updateDhcpHost(network: string, change: 'add' | 'modify' | 'delete', host: DhcpHost, impact?: Impact): Promise<void>;
}

/**
 * Thrown while the connection to the hypervisor is lost: a reason to wait for the reconnect,
 * never a reason to mark a resource failed.
 */
export class HypervisorUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HypervisorUnavailableError';
  }
}

/** The domain (or network) does not exist (any more). */
export class HypervisorNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HypervisorNotFoundError';
  }
}

/** The call does not fit the domain's state (start a running guest, undefine an active one...). */
export class HypervisorInvalidOperationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HypervisorInvalidOperationError';
  }
}

/** libvirt is busy with the domain (another job holds it; a state change lock timed out): try again later. */
export class HypervisorBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HypervisorBusyError';
  }
}
