// One kept libvirt connection per declared Hypervisor (LibvirtHypervisor reconnects with
// backoff by itself). A host that comes back or goes away asks for its Hypervisor to be looked
// at again at once.
import type { DomainSnapshot, HypervisorEvent, NodeFigures } from '../ports/hypervisor.js';

/** What the Hypervisor reconciler needs of one host's connection (LibvirtHypervisor has it). */
export interface HostConnection {
  readonly uri: string;
  readonly connected: boolean;
  readonly unreachableBecause: string | undefined;
  connectOrWait(): Promise<'connected' | 'waiting'>;
  close(): Promise<void>;
  onReconnect(listener: () => void): void;
  subscribe(listener: (event: HypervisorEvent) => void): () => void;
  domainType(): string;
  nodeFigures(): Promise<NodeFigures>;
  listDomains(): Promise<DomainSnapshot[]>;
}

export type ConnectHost = (uri: string) => HostConnection;

export class HostConnections<C extends HostConnection = HostConnection> {
  private readonly hosts = new Map<string, C>();

  /** `changed(name)`: the host reconnected, lost its connection, or a domain came or went. */
  constructor(private readonly open: (uri: string) => C, private readonly changed: (name: string) => void) {}

  get(name: string): C | undefined {
    return this.hosts.get(name);
  }

  names(): string[] {
    return [...this.hosts.keys()];
  }

  /** The host's connection for this URI: made (and started connecting) the first time, remade when the URI changed. */
  async ensure(name: string, uri: string): Promise<C> {
    const existing = this.hosts.get(name);
    if (existing?.uri === uri) return existing;
    if (existing) await this.drop(name);
    const conn = this.open(uri);
    this.hosts.set(name, conn);
    conn.onReconnect(() => this.changed(name));
    conn.subscribe((event) => {
      if (event.kind === 'connection-closed' || (event.kind === 'lifecycle' && (event.event === 'defined' || event.event === 'undefined'))) this.changed(name);
    });
    await conn.connectOrWait();
    return conn;
  }

  async drop(name: string): Promise<void> {
    const conn = this.hosts.get(name);
    this.hosts.delete(name);
    await conn?.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.names().map((name) => this.drop(name)));
  }
}
