// What `wimaxvm console` and `wimaxvm vnc` need of the hypervisor: a domain's state and XML, and
// its serial console as a stream. Adapter: src/adapters/libvirt/guest-consoles.ts.
import type { DomainState } from '../ports/hypervisor.js';
import type { ConsoleChannel } from './session.js';

export interface DomainView {
  name: string;
  state: DomainState;
  /** The persistent definition (wimaxvm's metadata is read from it). */
  persistentXml: string;
  /** The running configuration, while the domain is active (the VNC port libvirt chose is here). */
  liveXml?: string;
}

export interface GuestConsoles {
  readonly uri: string;
  /** undefined when no domain has that name. */
  describe(domainName: string): Promise<DomainView | undefined>;
  /** The domain's first console; `force` takes it over from another client. Throws ConsoleError. */
  open(domainName: string, opts: { force: boolean }): Promise<ConsoleChannel>;
  close(): Promise<void>;
}

export type ConsoleErrorKind =
  /** Another client (virsh console, another wimaxvm console) holds it. */
  | 'busy'
  /** The driver has no consoles (libvirt's test driver). */
  | 'unsupported'
  /** The domain stopped between the look and the attach. */
  | 'not-running'
  | 'absent'
  /** The session ended: another client took the console over with --force. */
  | 'taken-over';

export class ConsoleError extends Error {
  constructor(readonly kind: ConsoleErrorKind, message: string) {
    super(message);
    this.name = 'ConsoleError';
  }
}
