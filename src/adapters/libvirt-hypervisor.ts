// The Hypervisor port on libvirt through @unraid/libvirt (N-API, in process: no virsh spawned).
// A lost connection (libvirtd restarted) is reopened with backoff; meanwhile calls throw
// HypervisorUnavailableError so that reconciles wait instead of failing.
import { existsSync } from 'node:fs';
import { Hypervisor as LibvirtConnection, DomainGetXMLDescFlags, type Domain } from '@unraid/libvirt';
import { errorMessage, type Logger } from '../core/logger.js';
import { HypervisorUnavailableError, type DomainActivity, type DomainSnapshot, type DomainState, type Hypervisor } from '../ports/hypervisor.js';

const STATES: DomainState[] = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'];

/** Messages libvirt gives when the daemon went away; the binding does not keep error codes. */
const CONNECTION_LOST = /client socket is closed|Broken pipe|End of file while reading|Connection reset|Cannot recv data|Cannot write data|no connection driver|Failed to connect socket|not connected|invalid connection/i;
const NOT_FOUND = /Domain not found|no domain with matching/i;

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

export class LibvirtHypervisor implements Hypervisor {
  readonly uri: string;
  private conn: LibvirtConnection | undefined;
  private reconnecting: Promise<void> | undefined;
  private closed = false;
  private readonly type: 'kvm' | 'qemu' | 'test';
  private readonly reconnectListeners: (() => void)[] = [];

  constructor(private readonly opts: LibvirtHypervisorOptions) {
    this.uri = opts.uri;
    this.type = opts.domainType ?? defaultDomainType(opts.uri);
  }

  async connect(): Promise<void> {
    const conn = new LibvirtConnection({ uri: this.uri });
    await conn.connectOpen();
    this.conn = conn;
  }

  async close(): Promise<void> {
    this.closed = true;
    const conn = this.conn;
    this.conn = undefined;
    await conn?.connectClose().catch(() => {});
  }

  get connected(): boolean {
    return this.conn !== undefined;
  }

  /** Called after a lost connection is back: everything should be looked at again. */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  domainType(): 'kvm' | 'qemu' | 'test' {
    return this.type;
  }

  /** Checks the connection with a call that fails when the daemon is gone (list calls do not). */
  async ping(): Promise<void> {
    await this.call((c) => c.connectGetHostname());
  }

  async getDomain(name: string): Promise<DomainSnapshot | undefined> {
    const domain = await this.lookup(name);
    return domain ? this.snapshot(name, domain) : undefined;
  }

  async listDomains(): Promise<DomainSnapshot[]> {
    await this.ping();
    const domains = await this.call((c) => c.connectListAllDomains());
    const out = await Promise.all(domains.map(async (d) => {
      try {
        return await this.snapshot(await this.call((c) => c.domainGetName(d)), d);
      } catch (err) {
        if (NOT_FOUND.test(errorMessage(err))) return undefined; // undefined meanwhile
        throw err;
      }
    }));
    return out.filter((s): s is DomainSnapshot => s !== undefined);
  }

  async activity(): Promise<DomainActivity> {
    await this.ping();
    const [inactive, activeIds] = await Promise.all([
      this.call((c) => c.connectListDefinedDomains()),
      this.call((c) => c.connectListDomains()),
    ]);
    return { inactive, activeIds };
  }

  async nameOfActiveDomain(id: number): Promise<string | undefined> {
    try {
      const d = await this.call((c) => c.domainLookupByID(id));
      return await this.call((c) => c.domainGetName(d));
    } catch (err) {
      if (err instanceof HypervisorUnavailableError) throw err;
      return undefined;
    }
  }

  async define(xml: string): Promise<void> {
    await this.call((c) => c.domainDefineXML(xml));
  }

  start(name: string): Promise<void> {
    return this.onDomain(name, (c, d) => c.domainCreate(d));
  }

  shutdown(name: string): Promise<void> {
    return this.onDomain(name, (c, d) => c.domainShutdown(d));
  }

  destroy(name: string): Promise<void> {
    return this.onDomain(name, (c, d) => c.domainDestroy(d));
  }

  undefine(name: string): Promise<void> {
    return this.onDomain(name, (c, d) => c.domainUndefine(d));
  }

  suspend(name: string): Promise<void> {
    return this.onDomain(name, (c, d) => c.domainSuspend(d));
  }

  resume(name: string): Promise<void> {
    return this.onDomain(name, (c, d) => c.domainResume(d));
  }

  private async snapshot(name: string, domain: Domain): Promise<DomainSnapshot> {
    const [info, uuid, persistentXml] = await Promise.all([
      this.call((c) => c.domainGetInfo(domain)),
      this.call((c) => c.domainGetUUIDString(domain)),
      this.call((c) => c.domainGetXMLDesc(domain, DomainGetXMLDescFlags.INACTIVE)),
    ]);
    const state = STATES[info.state] ?? 'nostate';
    if (state === 'shutoff') return { name, uuid, state, persistentXml };
    const [id, liveXml] = await Promise.all([
      this.call((c) => c.domainGetID(domain)),
      this.call((c) => c.domainGetXMLDesc(domain, DomainGetXMLDescFlags.NONE)),
    ]);
    return { name, uuid, state, persistentXml, liveXml, ...(typeof id === 'number' ? { id } : {}) };
  }

  private async lookup(name: string): Promise<Domain | undefined> {
    try {
      return await this.call((c) => c.domainLookupByName(name));
    } catch (err) {
      if (NOT_FOUND.test(errorMessage(err))) return undefined;
      throw err;
    }
  }

  private async onDomain(name: string, fn: (c: LibvirtConnection, d: Domain) => Promise<unknown>): Promise<void> {
    const domain = await this.lookup(name);
    if (!domain) throw new Error(`domain ${name} not found`);
    await this.call((c) => fn(c, domain));
  }

  private async call<T>(fn: (c: LibvirtConnection) => Promise<T>): Promise<T> {
    const conn = this.conn;
    if (!conn) {
      this.startReconnect();
      throw new HypervisorUnavailableError(`not connected to ${this.uri}`);
    }
    try {
      return await fn(conn);
    } catch (err) {
      const message = errorMessage(err);
      if (CONNECTION_LOST.test(message)) {
        if (this.conn === conn) {
          this.opts.logger.warn('lost the libvirt connection, reconnecting', { uri: this.uri, error: message });
          this.conn = undefined;
          conn.connectClose().catch(() => {});
        }
        this.startReconnect();
        throw new HypervisorUnavailableError(`libvirt connection to ${this.uri} lost: ${message}`);
      }
      throw err;
    }
  }

  private startReconnect(): void {
    if (this.reconnecting || this.closed) return;
    this.reconnecting = this.reconnectLoop().finally(() => {
      this.reconnecting = undefined;
    });
  }

  private async reconnectLoop(): Promise<void> {
    let delay = this.opts.reconnectBaseMs ?? 200;
    const max = this.opts.reconnectMaxMs ?? 10_000;
    while (!this.closed) {
      try {
        const conn = new LibvirtConnection({ uri: this.uri });
        await conn.connectOpen();
        await conn.connectGetHostname();
        this.conn = conn;
        this.opts.logger.info('libvirt connection restored', { uri: this.uri });
        for (const listener of this.reconnectListeners) listener();
        return;
      } catch (err) {
        this.opts.logger.debug('reconnect failed', { uri: this.uri, error: errorMessage(err), retryInMs: delay });
        await new Promise((r) => setTimeout(r, delay * (1 + Math.random() * 0.2)));
        delay = Math.min(max, delay * 2);
      }
    }
  }
}
