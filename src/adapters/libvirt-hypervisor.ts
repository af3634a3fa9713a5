// The Hypervisor port on libvirt through @unraid/libvirt (N-API, in process: no virsh spawned).
// A lost connection (libvirtd restarted) is reopened with backoff; meanwhile calls throw
// HypervisorUnavailableError so that reconciles wait instead of failing.
import { existsSync } from 'node:fs';
import { Hypervisor as LibvirtConnection, DomainGetXMLDescFlags, type Domain } from '@unraid/libvirt';
import { errorMessage, type Logger } from '../core/logger.js';
import { assertPermit, type DeletionPermit } from '../core/deletion-gate.js';
import { countingLibvirtConnection } from '../observability/call-counters.js';
import { HypervisorUnavailableError, type DomainActivity, type DomainSnapshot, type DomainState, type Hypervisor } from '../ports/hypervisor.js';

const STATES: DomainState[] = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'];

/** Messages libvirt gives when the daemon went away; the binding does not keep error codes. */
const CONNECTION_LOST = /client socket is closed|Broken pipe|End of file while reading|Connection reset|Cannot recv data|Cannot write data|no connection driver|Failed to connect socket|not connected|invalid connection/i;
/** libvirtd is not there (yet): not running, restarting, or its socket not made yet. Worth waiting for. */
const UNREACHABLE = /Failed to connect socket|Connection refused|No such file or directory|Cannot recv data|End of file while reading|Connection reset|Broken pipe/i;
const NOT_FOUND = /Domain not found|no domain with matching|invalid domain pointer/i;

/** The domain's name and id from its XML, so no extra calls are needed for them. */
function xmlName(xml: string): string {
  const m = /<name>([^<]*)<\/name>/.exec(xml);
  if (!m) throw new Error('domain XML without <name>');
  return m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}
const XML_UUID = /<uuid>([0-9a-fA-F-]+)<\/uuid>/;
const XML_ID = /^<domain[^>]*\sid='(\d+)'/;

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
  /** whenConnected's callers, each told once. */
  private readonly connectWaiters = new Set<() => void>();
  /** Why the last attempt to connect failed, while not connected (for /readyz). */
  private lastFailure: string | undefined;
  /** Cuts the reconnect loop's sleep short (close). */
  private wake: (() => void) | undefined;
  /** Handles of domains looked up or defined, so each call is one libvirt call, not two. */
  private readonly handles = new Map<string, Domain>();
  /**
   * Names of every domain as of the last listing, kept up to date by our own define and
   * undefine: a name not in it needs no failing lookup (the common case for a new VM).
   */
  private known: Set<string> | undefined;

  constructor(private readonly opts: LibvirtHypervisorOptions) {
    this.uri = opts.uri;
    this.type = opts.domainType ?? defaultDomainType(opts.uri);
  }

  async connect(): Promise<void> {
    const conn = new LibvirtConnection({ uri: this.uri });
    await conn.connectOpen();
    this.conn = conn;
  }

  /**
   * Connects, or, when libvirtd is not reachable (not running, restarting), keeps trying in the
   * background with backoff and says so ('waiting'). Other failures (an unknown driver, refused
   * credentials) are the configuration's and throw.
   */
  async connectOrWait(): Promise<'connected' | 'waiting'> {
    try {
      await this.connect();
      return 'connected';
    } catch (err) {
      if (!UNREACHABLE.test(errorMessage(err))) throw err;
      this.lastFailure = errorMessage(err);
      this.startReconnect();
      return 'waiting';
    }
  }

  /** Resolves once connected; rejects when `signal` aborts first. */
  whenConnected(signal: AbortSignal): Promise<void> {
    if (this.conn) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const connected = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.connectWaiters.delete(connected);
        reject(new Error('stopped while waiting for libvirt'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.connectWaiters.add(connected);
      this.startReconnect();
    });
  }

  /** Why libvirt is not connected (the last error of a connection attempt), while it is not. */
  get unreachableBecause(): string | undefined {
    return this.conn ? undefined : this.lastFailure;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
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

  async getDomain(name: string, fresh = false): Promise<DomainSnapshot | undefined> {
    if (fresh) this.handles.delete(name);
    const domain = await this.lookup(name, fresh);
    if (!domain) return undefined;
    try {
      return await this.snapshot(domain);
    } catch (err) {
      if (!NOT_FOUND.test(errorMessage(err))) throw err;
      // The handle outlived its domain (undefined behind our back): ask once more.
      this.forget(name);
      const again = await this.lookup(name, true);
      return again ? this.snapshot(again) : undefined;
    }
  }

  async listDomains(): Promise<DomainSnapshot[]> {
    await this.ping();
    const domains = await this.call((c) => c.connectListAllDomains());
    const out = await Promise.all(domains.map(async (d) => {
      try {
        return await this.snapshot(d);
      } catch (err) {
        if (NOT_FOUND.test(errorMessage(err))) return undefined; // undefined meanwhile
        throw err;
      }
    }));
    const snapshots = out.filter((s): s is DomainSnapshot => s !== undefined);
    await this.ping(); // list calls return [] instead of failing on a dead connection
    this.known = new Set(snapshots.map((s) => s.name));
    for (const [i, d] of domains.entries()) if (out[i]) this.handles.set(out[i]!.name, d);
    return snapshots;
  }

  async activity(): Promise<DomainActivity> {
    await this.ping();
    const [inactive, activeIds] = await Promise.all([
      this.call((c) => c.connectListDefinedDomains()),
      this.call((c) => c.connectListDomains()),
    ]);
    await this.ping();
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
    const name = xmlName(xml);
    try {
      this.handles.set(name, await this.call((c) => c.domainDefineXML(xml)));
      this.known?.add(name);
    } catch (err) {
      // Most likely it exists after all (defined behind our back): look it up next time.
      this.known?.add(name);
      this.handles.delete(name);
      throw err;
    }
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

  async undefine(name: string, permit: DeletionPermit): Promise<void> {
    assertPermit(permit, name);
    await this.onDomain(name, (c, d) => c.domainUndefine(d));
    this.forget(name);
  }

  suspend(name: string): Promise<void> {
    return this.onDomain(name, (c, d) => c.domainSuspend(d));
  }

  resume(name: string): Promise<void> {
    return this.onDomain(name, (c, d) => c.domainResume(d));
  }

  /** Two or three calls: state, persistent XML, and the live XML while active (name, uuid, id are in the XML). */
  private async snapshot(domain: Domain): Promise<DomainSnapshot> {
    const [info, persistentXml] = await Promise.all([
      this.call((c) => c.domainGetInfo(domain)),
      this.call((c) => c.domainGetXMLDesc(domain, DomainGetXMLDescFlags.INACTIVE)),
    ]);
    const name = xmlName(persistentXml);
    const uuid = XML_UUID.exec(persistentXml)?.[1] ?? '';
    const state = STATES[info.state] ?? 'nostate';
    if (state === 'shutoff') return { name, uuid, state, persistentXml };
    const liveXml = await this.call((c) => c.domainGetXMLDesc(domain, DomainGetXMLDescFlags.NONE));
    const id = XML_ID.exec(liveXml)?.[1];
    return { name, uuid, state, persistentXml, liveXml, ...(id !== undefined ? { id: Number(id) } : {}) };
  }

  private forget(name: string): void {
    this.handles.delete(name);
    this.known?.delete(name);
  }

  private async lookup(name: string, fresh = false): Promise<Domain | undefined> {
    const cached = this.handles.get(name);
    if (cached) return cached;
    if (!fresh && this.known && !this.known.has(name)) return undefined;
    try {
      const domain = await this.call((c) => c.domainLookupByName(name));
      this.handles.set(name, domain);
      this.known?.add(name);
      return domain;
    } catch (err) {
      if (NOT_FOUND.test(errorMessage(err))) {
        this.known?.delete(name);
        return undefined;
      }
      throw err;
    }
  }

  /** An operation on a domain; a stale handle (domain undefined and defined again by hand) is refreshed once. */
  private async onDomain(name: string, fn: (c: LibvirtConnection, d: Domain) => Promise<unknown>): Promise<void> {
    const domain = await this.lookup(name, true);
    if (!domain) throw new Error(`domain ${name} not found`);
    try {
      await this.call((c) => fn(c, domain));
    } catch (err) {
      if (!NOT_FOUND.test(errorMessage(err)) || !this.handles.has(name)) throw err;
      this.forget(name);
      const again = await this.lookup(name, true);
      if (!again) throw err;
      await this.call((c) => fn(c, again));
    }
  }

  private async call<T>(fn: (c: LibvirtConnection) => Promise<T>): Promise<T> {
    const conn = this.conn;
    if (!conn) {
      this.startReconnect();
      throw new HypervisorUnavailableError(`not connected to ${this.uri}`);
    }
    try {
      return await fn(countingLibvirtConnection(conn)); // counts for /metrics until the own binding's setCallObserver does
    } catch (err) {
      const message = errorMessage(err);
      if (CONNECTION_LOST.test(message)) {
        if (this.conn === conn) {
          this.lastFailure = message;
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
        if (this.closed) {
          await conn.connectClose().catch(() => {});
          return;
        }
        this.conn = conn;
        this.lastFailure = undefined;
        this.handles.clear(); // handles belong to the old connection
        this.known = undefined;
        this.opts.logger.info('libvirt connection restored', { uri: this.uri });
        for (const listener of this.reconnectListeners) listener();
        for (const waiter of this.connectWaiters) waiter();
        this.connectWaiters.clear();
        return;
      } catch (err) {
        this.lastFailure = errorMessage(err);
        this.opts.logger.debug('reconnect failed', { uri: this.uri, error: this.lastFailure, retryInMs: delay });
        await new Promise<void>((r) => {
          const timer = setTimeout(r, delay * (1 + Math.random() * 0.2));
          this.wake = () => { clearTimeout(timer); r(); };
        });
        this.wake = undefined;
        delay = Math.min(max, delay * 2);
      }
    }
  }
}
