// One libvirt connection kept open: opened, watched (libvirt's close callback starts the
// reconnect at once) and reopened with backoff (WatchBackoff) after libvirtd went away. Meanwhile
// calls throw HypervisorUnavailableError, so that reconciles wait instead of failing.
import { WatchBackoff } from '../../core/watch-backoff.js';
import { errorMessage, type Logger } from '../../core/logger.js';
import { HypervisorUnavailableError } from '../../ports/hypervisor.js';
import { classify, isUnreachable, withCallerStack } from './errors.js';
import { openConnection, type Connection } from './native.js';

export interface KeptConnectionOptions {
  uri: string;
  logger: Logger;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

export class KeptConnection {
  readonly uri: string;
  private conn: Connection | undefined;
  private reconnecting: Promise<void> | undefined;
  private closed = false;
  private readonly backoff: WatchBackoff;
  /** Told of each new connection (the first and every reconnect), before the reconnect listeners. */
  private readonly openListeners: ((conn: Connection) => Promise<void> | void)[] = [];
  private readonly reconnectListeners: (() => void)[] = [];
  private readonly lostListeners: ((reason: string) => void)[] = [];
  /** whenConnected's callers, each told once. */
  private readonly connectWaiters = new Set<() => void>();
  /** Why the last attempt to connect failed, while not connected (for /readyz). */
  private lastFailure: string | undefined;
  /** Cuts the reconnect loop's sleep short (close). */
  private wake: (() => void) | undefined;

  constructor(private readonly opts: KeptConnectionOptions) {
    this.uri = opts.uri;
    this.backoff = new WatchBackoff({ baseMs: opts.reconnectBaseMs ?? 200, maxMs: opts.reconnectMaxMs ?? 10_000 });
  }

  get connected(): boolean {
    return this.conn !== undefined;
  }

  /** Why libvirt is not connected (the last error of a connection attempt), while it is not. */
  get unreachableBecause(): string | undefined {
    return this.conn ? undefined : this.lastFailure;
  }

  /** Each new connection, as it is opened (to register callbacks on it; awaited before the connection counts as made). */
  onOpen(listener: (conn: Connection) => Promise<void> | void): void {
    this.openListeners.push(listener);
  }

  /** Called after a lost connection is back: everything should be looked at again. */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  /** Called once per outage, when the connection is noticed lost. */
  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  async connect(): Promise<void> {
    let conn: Connection;
    try {
      conn = await openConnection(this.uri);
    } catch (err) {
      throw withCallerStack(err, this.connect);
    }
    await this.adopt(conn);
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
      if (!isUnreachable(err)) throw err;
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

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close().catch(() => {});
  }

  /**
   * Runs `fn` on the connection. A failure saying the connection is gone drops it, starts the
   * reconnect and throws HypervisorUnavailableError; other failures pass through.
   */
  async call<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
    const conn = this.conn;
    if (!conn) {
      this.startReconnect();
      throw new HypervisorUnavailableError(`not connected to ${this.uri}`);
    }
    try {
      return await fn(conn);
    } catch (err) {
      if (classify(err) !== 'connection-lost') throw withCallerStack(err, this.call);
      this.lost(conn, errorMessage(err));
      throw new HypervisorUnavailableError(`libvirt connection to ${this.uri} lost: ${errorMessage(err)}`);
    }
  }

  private async adopt(conn: Connection): Promise<void> {
    this.conn = conn;
    this.lastFailure = undefined;
    this.backoff.delivered(); // it works: the next outage starts from the base delay
    conn.onClose((reason) => this.lost(conn, `connection closed (${reason})`));
    for (const listener of this.openListeners) await listener(conn);
  }

  /** The connection `conn` is gone (a failed call or libvirt's close callback, whichever comes first). */
  private lost(conn: Connection, why: string): void {
    if (this.conn === conn) {
      this.lastFailure = why;
      this.opts.logger.warn('lost the libvirt connection, reconnecting', { uri: this.uri, error: why });
      this.conn = undefined;
      conn.close().catch(() => {});
      for (const listener of this.lostListeners) listener(why);
    }
    this.startReconnect();
  }

  private startReconnect(): void {
    if (this.reconnecting || this.closed || this.conn) return;
    this.reconnecting = this.reconnectLoop().finally(() => {
      this.reconnecting = undefined;
    });
  }

  private async reconnectLoop(): Promise<void> {
    while (!this.closed) {
      try {
        this.backoff.attempt();
        const conn = await openConnection(this.uri);
        if (this.closed) {
          await conn.close().catch(() => {});
          return;
        }
        await this.adopt(conn);
        this.opts.logger.info('libvirt connection restored', { uri: this.uri });
        for (const listener of this.reconnectListeners) listener();
        for (const waiter of this.connectWaiters) waiter();
        this.connectWaiters.clear();
        return;
      } catch (err) {
        this.lastFailure = errorMessage(err);
        const delay = this.backoff.failed();
        this.opts.logger.debug('reconnect failed', { uri: this.uri, error: this.lastFailure, retryInMs: delay });
        await new Promise<void>((r) => {
          const timer = setTimeout(r, delay);
          this.wake = () => { clearTimeout(timer); r(); };
        });
        this.wake = undefined;
      }
    }
  }
}
