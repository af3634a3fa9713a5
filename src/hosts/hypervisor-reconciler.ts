// Keeps each Hypervisor's status in line with its host: connects to its URI (one connection per
// declared host, kept and reconnected with backoff), reads libvirt's node figures and wimaxvm's
// domains there, and writes capacity, allocatable, the VMs and Ready. An unreachable host is
// Ready=False, never an error: its VMs are not touched from here.
import { parseResourceKey, type ResourceKey } from '../api/meta.js';
import { HYPERVISOR_KIND, type Hypervisor, type HypervisorStatus } from '../api/hypervisor.js';
import { stableStringify } from '../api/stable-json.js';
import type { DesiredStore } from '../core/desired-store.js';
import { errorMessage, type Logger } from '../core/logger.js';
import type { Reconciler, ReconcileResult } from '../core/result.js';
import type { StatusStore } from '../ports/status-store.js';
import { HypervisorUnavailableError } from '../ports/hypervisor.js';
import type { OwnerMetadata } from '../reconcilers/virtual-machine/domain-xml.js';

/** How soon a host whose figures could not be read on a live connection is looked at again. */
const RETRY_AFTER_FAILED_READ_MS = 1_000;
import type { HostConnection, HostConnections } from './host-connections.js';
import { reachableStatus, unreachableStatus, usageOf } from './hypervisor-status.js';

export interface HypervisorReconcilerOptions<C extends HostConnection> {
  store: DesiredStore;
  statuses: StatusStore;
  hosts: HostConnections<C>;
  logger: Logger;
  /** How often a host's figures are read again (free memory, domains made by hand). */
  refreshMs?: number;
  /** Which wimaxvm domains are this controller's (its VMs in status); all when not said. */
  owns?: (owner: OwnerMetadata) => boolean;
  /** Told after a Hypervisor's status changed (VMs waiting for a place look again). */
  onStatusChange?: (name: string) => void;
  now?: () => string;
}

export class HypervisorReconciler<C extends HostConnection = HostConnection> implements Reconciler {
  readonly kind = HYPERVISOR_KIND;
  private readonly refreshMs: number;
  private readonly now: () => string;

  constructor(private readonly opts: HypervisorReconcilerOptions<C>) {
    this.refreshMs = opts.refreshMs ?? 30_000;
    this.now = opts.now ?? (() => new Date().toISOString());
  }

  async reconcile(key: ResourceKey): Promise<ReconcileResult> {
    const { store, statuses, hosts, logger } = this.opts;
    const { name } = parseResourceKey(key);
    const hv = store.get<Hypervisor>(key);
    if (!hv) {
      await hosts.drop(name);
      if (statuses.get(key)) await statuses.remove(key);
      return {};
    }
    const conn = await hosts.ensure(name, hv.spec.uri);
    const before = statuses.get(key)?.status as HypervisorStatus | undefined;
    const current: Hypervisor = { ...hv, status: before };
    let status: HypervisorStatus;
    if (!conn.connected) {
      status = unreachableStatus(current, conn.unreachableBecause ?? 'not connected yet', this.now());
    } else {
      try {
        const [figures, domains] = await Promise.all([conn.nodeFigures(), conn.listDomains()]);
        status = reachableStatus(current, figures, usageOf(domains, this.opts.owns), conn.domainType(), this.now());
      } catch (err) {
        // One failed call on a live connection (a busy daemon) is no reason to call the host
        // NotReady: look again soon. A lost connection is (libvirt says so, or the close callback).
        if (conn.connected && !(err instanceof HypervisorUnavailableError)) {
          logger.warn(`hypervisor ${name}: reading its figures failed; trying again`, { error: errorMessage(err) });
          return { requeueAfterMs: RETRY_AFTER_FAILED_READ_MS };
        }
        status = unreachableStatus(current, errorMessage(err), this.now());
      }
    }
    if (stableStringify(status) !== stableStringify(before)) {
      const ready = status.conditions.find((c) => c.type === 'Ready');
      if (ready?.status !== before?.conditions?.find((c) => c.type === 'Ready')?.status) {
        (ready?.status === 'True' ? logger.info : logger.warn).call(logger, `hypervisor ${name}: ${ready?.message}`, { uri: hv.spec.uri });
      }
      await statuses.write(key, { ...hv, status });
      this.opts.onStatusChange?.(name);
    }
    return { requeueAfterMs: this.refreshMs };
  }
}
