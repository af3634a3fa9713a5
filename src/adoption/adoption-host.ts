// What adoption needs of the hypervisor and the switch. Adapter: src/adapters/libvirt/adoption-host.ts.
import type { DomainState } from '../ports/hypervisor.js';

export interface DomainOnHost {
  name: string;
  uuid: string;
  state: DomainState;
  /** Defined (not transient): only a persistent domain can carry a claim across its restarts. */
  persistent: boolean;
  persistentXml: string;
  liveXml?: string;
}

export interface AdoptionHost {
  readonly uri: string;
  /** undefined when no domain has that name. */
  describe(domainName: string): Promise<DomainOnHost | undefined>;
  /** Names of the active domains (what the old service's initvms took over). */
  activeDomainNames(): Promise<string[]>;
  /** The file's real path (symlinks resolved), undefined when it does not exist. */
  realPath(path: string): Promise<string | undefined>;
  /** The access tag of an Open vSwitch port, undefined when it has none or there is no such port. */
  portTag(port: string): Promise<number | undefined>;
  /**
   * Sets (xml) or removes (null) wimaxvm's metadata element through virDomainSetMetadata, on the
   * persistent definition and, when `live`, the running one: the definition is never redefined.
   */
  setOwnerElement(domainName: string, xml: string | null, live: boolean): Promise<void>;
}
