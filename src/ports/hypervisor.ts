// What the reconcilers need of a hypervisor, in libvirt's own plain data (names, states, XML).
// Adapters: LibvirtHypervisor (src/adapters); tests: FakeHypervisor (test/fakes).
import type { DeletionPermit } from '../core/deletion-gate.js';

export type DomainState =
  | 'nostate' | 'running' | 'blocked' | 'paused' | 'shutdown' | 'shutoff' | 'crashed' | 'pmsuspended';

export interface DomainSnapshot {
  name: string;
  uuid: string;
  /** Present while the domain is active. */
  id?: number;
  state: DomainState;
  /** The persistent definition (VIR_DOMAIN_XML_INACTIVE). */
  persistentXml: string;
  /** The running configuration, when the domain is active. */
  liveXml?: string;
}

/** Cheap view of every domain's activity, for noticing changes made behind our back. */
export interface DomainActivity {
  /** Names of defined, inactive domains. */
  inactive: string[];
  /** Ids of active domains. */
  activeIds: number[];
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
  listDomains(): Promise<DomainSnapshot[]>;
  activity(): Promise<DomainActivity>;
  /** The name of an active domain, by id (for ids activity() has not seen before). */
  nameOfActiveDomain(id: number): Promise<string | undefined>;
  define(xml: string): Promise<void>;
  start(name: string): Promise<void>;
  shutdown(name: string): Promise<void>;
  destroy(name: string): Promise<void>;
  /** Deletes the domain's definition: only with the deletion gate's permit for it. */
  undefine(name: string, permit: DeletionPermit): Promise<void>;
  suspend(name: string): Promise<void>;
  resume(name: string): Promise<void>;
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
