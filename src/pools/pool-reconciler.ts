// Reconciles one IPPool: counts what it offers and what VMs hold, and writes its status when that
// changed. It hands out nothing itself (the VM's allocation step does, through the claims).
import { IPPOOL_KIND, type IPPool, type IPPoolStatus } from '../api/ip-pool.js';
import { resourceKey, type ResourceKey } from '../api/meta.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { ReconcileResult, Reconciler } from '../core/result.js';
import type { IpClaims } from '../ports/ip-claims.js';
import type { StatusStore } from '../ports/status-store.js';
import { poolStatus } from './pool-status.js';

export interface IpPoolReconcilerDeps {
  store: DesiredStore;
  statuses: StatusStore;
  ipClaims: IpClaims;
  now?: () => number;
}

export class IpPoolReconciler implements Reconciler {
  readonly kind = IPPOOL_KIND;

  constructor(private readonly deps: IpPoolReconcilerDeps) {}

  async reconcile(key: ResourceKey): Promise<ReconcileResult> {
    const pool = this.deps.store.get<IPPool>(key);
    const stored = this.deps.statuses.get(key);
    if (!pool) {
      if (stored) await this.deps.statuses.remove(key);
      return {};
    }
    const previous = stored?.status as IPPoolStatus | undefined;
    const now = new Date((this.deps.now ?? Date.now)()).toISOString();
    const status = poolStatus(pool, this.deps.ipClaims.list(), previous, now);
    if (JSON.stringify(status) !== JSON.stringify(previous)) await this.deps.statuses.write(key, { ...pool, status });
    return {};
  }
}

/** The pool key a claim counts in (namespace/name as claims record it). */
export function poolKeyOfClaim(pool: string | undefined): ResourceKey | undefined {
  if (!pool) return undefined;
  const [namespace, name] = pool.split('/');
  return namespace && name ? resourceKey(IPPOOL_KIND, namespace, name) : undefined;
}

