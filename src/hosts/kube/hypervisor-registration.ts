// A node's controller in Kubernetes mode registers its node as a Hypervisor (name: the node's,
// from the downward API; uri: its libvirt URI) and keeps its status current from its own libvirt
// connection: capacity, allocatable, its VMs, Ready. It renews its heartbeat Lease meanwhile, by
// which the placement leader tells a live node from a lost one.
import { stableStringify } from '../../api/stable-json.js';
import { findCondition } from '../../api/meta.js';
import type { HypervisorStatus } from '../../api/hypervisor.js';
import { kubeErrorMessage } from '../../adapters/kube-api-error.js';
import type { Logger } from '../../core/logger.js';
import { HypervisorUnavailableError } from '../../ports/hypervisor.js';
import type { HostConnection } from '../host-connections.js';
import type { OwnerMetadata } from '../../reconcilers/virtual-machine/domain-xml.js';
import { reachableStatus, unreachableStatus, usageOf } from '../hypervisor-status.js';
import type { HeartbeatLease } from './heartbeat.js';
import { toHypervisor, type HypervisorObjects } from './hypervisor-objects.js';

export interface RegistrationOptions {
  objects: HypervisorObjects;
  heartbeat: HeartbeatLease;
  host: string;
  uri: string;
  /** The controller's own libvirt connection. */
  conn: HostConnection;
  logger: Logger;
  /** How often the figures are read again (domains made by hand, free memory). */
  refreshMs: number;
  /** Which wimaxvm domains are this controller's (its VMs in status); all when not said. */
  owns?: (owner: OwnerMetadata) => boolean;
  renewMs: number;
  now?: () => string;
}

/** A domain defined or undefined: the figures are read again this soon (many together, once). */
const AFTER_DOMAIN_CHANGE_MS = 200;

export class HypervisorRegistration {
  private readonly timers: NodeJS.Timeout[] = [];
  private soon: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  private heartbeatFailing = false;
  /** A renewal in flight: the next waits for it (two at once would make each other's 409). */
  private beating = false;

  constructor(private readonly opts: RegistrationOptions) {}

  start(): void {
    const { conn, refreshMs, renewMs } = this.opts;
    this.unsubscribe = conn.subscribe((event) => {
      if (event.kind === 'connection-closed' || (event.kind === 'lifecycle' && (event.event === 'defined' || event.event === 'undefined'))) this.refreshSoon();
    });
    conn.onReconnect(() => this.refreshSoon());
    void this.beat();
    this.refreshSoon(0);
    this.timers.push(setInterval(() => this.refreshSoon(0), refreshMs), setInterval(() => void this.beat(), renewMs));
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.soon);
    await this.running;
  }

  /** Reads and writes now (tests, and after a change that must show at once). */
  refreshSoon(delayMs = AFTER_DOMAIN_CHANGE_MS): void {
    if (this.stopped || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.refresh();
    }, delayMs);
    this.soon.unref();
  }

  private async beat(): Promise<void> {
    if (this.beating || this.stopped) return;
    this.beating = true;
    try {
      await this.opts.heartbeat.renew();
      if (this.heartbeatFailing) this.opts.logger.info('heartbeat renewed again', { host: this.opts.host });
      this.heartbeatFailing = false;
    } catch (err) {
      if (!this.heartbeatFailing) this.opts.logger.warn('could not renew the hypervisor heartbeat; retrying', { host: this.opts.host, error: kubeErrorMessage(err) });
      this.heartbeatFailing = true;
    } finally {
      this.beating = false;
    }
  }

  /** One pass at a time; a change meanwhile runs one more. */
  private async refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.writeOnce().catch((err) => this.opts.logger.warn('could not register the hypervisor or write its status; retrying', { host: this.opts.host, error: kubeErrorMessage(err) }));
      } while (this.again && !this.stopped);
    })();
    await this.running;
    this.running = undefined;
  }

  private async writeOnce(): Promise<void> {
    const { objects, host, uri, conn, logger } = this.opts;
    const now = this.opts.now?.() ?? new Date().toISOString();
    const object = await objects.register(host, uri);
    const current = toHypervisor(object);
    let status: HypervisorStatus;
    if (!conn.connected) {
      status = unreachableStatus(current, conn.unreachableBecause ?? 'not connected yet', now);
    } else {
      try {
        const [figures, domains] = await Promise.all([conn.nodeFigures(), conn.listDomains()]);
        status = reachableStatus(current, figures, usageOf(domains, this.opts.owns), conn.domainType(), now);
      } catch (err) {
        if (conn.connected && !(err instanceof HypervisorUnavailableError)) throw err; // a busy daemon: the next pass
        status = unreachableStatus(current, kubeErrorMessage(err), now);
      }
    }
    if (stableStringify(status) === stableStringify(current.status)) return;
    const was = findCondition(current.status?.conditions, 'Ready');
    const ready = findCondition(status.conditions, 'Ready');
    if (was?.status !== ready?.status || was?.reason !== ready?.reason) {
      (ready?.status === 'True' ? logger.info : logger.warn).call(logger, `hypervisor ${host}: ${ready?.message}`, { uri });
    }
    await objects.writeStatus(host, status);
  }
}
