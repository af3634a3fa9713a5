// libvirt's domain events as the port's plain-data HypervisorEvents, across reconnects: the
// subscription is made again on every new connection, and a lost one is announced.
import { errorMessage, type Logger } from '../../core/logger.js';
import type { HypervisorEvent } from '../../ports/hypervisor.js';
import type { Connection, DomainEvent } from './native.js';

export function toHypervisorEvent(e: DomainEvent): HypervisorEvent | undefined {
  switch (e.kind) {
    case 'lifecycle': return { kind: 'lifecycle', domain: e.name, event: e.event, detail: e.detail };
    case 'reboot': return { kind: 'reboot', domain: e.name };
    case 'device-removed': return { kind: 'device-removed', domain: e.name, alias: e.alias };
    default: return undefined; // metadata changes: our own, mostly; nothing reacts to them yet
  }
}

export class DomainEvents {
  private readonly listeners = new Set<(event: HypervisorEvent) => void>();
  /** Whether the current connection delivers domain events (false: register failed, or none yet). */
  private delivering = false;

  /** touched: told the name of the domain of every event, before listeners (metadata changes too). */
  constructor(private readonly logger: Logger, private readonly touched?: (domain: string) => void) {}

  get delivered(): boolean {
    return this.delivering;
  }

  subscribe(listener: (event: HypervisorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A new connection: its events from now on (the old one's registration went with it). Resolves
   * once libvirt has the callbacks in place, or knows it will deliver none (then changes are polled).
   */
  async attach(conn: Connection): Promise<void> {
    this.delivering = false;
    conn.onDomainEvent((e) => {
      this.touched?.(e.name);
      const event = toHypervisorEvent(e);
      if (event) this.emit(event);
    });
    try {
      await conn.eventsReady();
      this.delivering = true;
    } catch (err) {
      this.logger.warn('libvirt delivers no domain events on this connection; polling for changes instead', { uri: conn.uri, error: errorMessage(err) });
    }
  }

  connectionLost(reason: string): void {
    this.delivering = false;
    this.emit({ kind: 'connection-closed', reason });
  }

  private emit(event: HypervisorEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error('domain event listener failed', { error: errorMessage(err) });
      }
    }
  }
}
