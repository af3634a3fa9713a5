// IP claims in the API server, cluster-wide, as VLAN claims are (kube-vlan-claims.ts) and as
// Kubernetes' own IPAddress objects are for Service IPs: one coordination.k8s.io Lease per
// address, named wimaxvm-ip-<a>-<b>-<c>-<d>, in the claims namespace. Creating it is the claim
// (409 AlreadyExists refuses a second holder atomically); taking it over (its VM moved to this
// node, or its VM is gone) and releasing it run under uid/resourceVersion preconditions. A watch
// keeps the claims known here, for pool counts and for skipping addresses taken elsewhere.
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import { resourceKey, type ResourceKey } from '../api/meta.js';
import { VM_KIND } from '../api/virtual-machine.js';
import type { Logger } from '../core/logger.js';
import type { IpClaim, IpClaimResult, IpClaims } from '../ports/ip-claims.js';
import { HOLDER_UID_ANNOTATION, LeaseClaimStore, NODE_ANNOTATION, serverMessage } from './kube-lease-claims.js';

/** Marks wimaxvm's IP claims among the namespace's Leases. */
export const IP_CLAIM_LABEL = 'wimaxvm.io/ip-claim';
/** The pool (namespace/name) the address was claimed in. */
export const POOL_ANNOTATION = 'wimaxvm.io/pool';

const ATTEMPTS = 4;

export const ipClaimName = (ip: string) => `wimaxvm-ip-${ip.replace(/\./g, '-')}`;

export interface KubeIpClaimsOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** This controller's node in DaemonSet mode; '' for a cluster-wide controller. */
  node: string;
  logger: Logger;
  retryMaxMs?: number;
}

interface Known extends IpClaim {
  node: string;
  objectUid: string;
}

function claimOf(lease: V1Lease): Known | undefined {
  const annotations = lease.metadata?.annotations ?? {};
  const m = /^wimaxvm-ip-(\d+)-(\d+)-(\d+)-(\d+)$/.exec(lease.metadata?.name ?? '');
  const holder = lease.spec?.holderIdentity ?? '';
  const holderUid = annotations[HOLDER_UID_ANNOTATION];
  if (!m || !holderUid || holder.split('/').length !== 2) return undefined;
  const [namespace, name] = holder.split('/') as [string, string];
  const pool = annotations[POOL_ANNOTATION];
  return {
    ip: m.slice(1).join('.'), holderKey: resourceKey(VM_KIND, namespace, name), holderUid,
    node: annotations[NODE_ANNOTATION] ?? '', objectUid: lease.metadata?.uid ?? '', ...(pool ? { pool } : {}),
  };
}

const plain = ({ ip, holderKey, holderUid, pool }: Known): IpClaim => ({ ip, holderKey, holderUid, ...(pool ? { pool } : {}) });

export class KubeIpClaims implements IpClaims {
  private readonly known = new Map<string, Known>();
  private readonly listeners: ((claim: IpClaim, change: 'claimed' | 'released') => void)[] = [];
  private readonly leases: LeaseClaimStore;

  constructor(private readonly opts: KubeIpClaimsOptions) {
    this.leases = new LeaseClaimStore({
      ...opts, label: IP_CLAIM_LABEL, what: 'IP claims',
      onLease: (lease) => this.remember(lease),
      onDeleted: (lease) => {
        const claim = claimOf(lease);
        if (claim) this.forget(claim.ip, claim.objectUid);
      },
    });
  }

  async start(): Promise<void> {
    await this.leases.start();
  }

  async stop(): Promise<void> {
    await this.leases.stop();
  }

  list(): IpClaim[] {
    return [...this.known.values()].map(plain);
  }

  get(ip: string): IpClaim | undefined {
    const known = this.known.get(ip);
    return known && plain(known);
  }

  onChange(listener: (claim: IpClaim, change: 'claimed' | 'released') => void): void {
    this.listeners.push(listener);
  }

  async claim(ip: string, holderKey: ResourceKey, holderUid: string, pool?: string): Promise<IpClaimResult> {
    const cached = this.known.get(ip);
    const current = (held: Known) => held.node === this.opts.node && held.pool === pool;
    if (cached?.holderUid === holderUid && current(cached)) return 'granted';
    let create = cached === undefined;
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        if (create && (await this.leases.create(this.lease(ip, holderKey, holderUid, pool)))) return 'granted';
        create = true;
        const lease = await this.leases.read(ipClaimName(ip));
        if (!lease) continue; // released in between: create again
        const held = claimOf(lease);
        if (!held) return { heldBy: resourceKey('Lease', this.opts.namespace, ipClaimName(ip)) }; // not ours to touch
        if (held.holderUid === holderUid) {
          if (current(held)) {
            this.remember(lease);
            return 'granted';
          }
          // The VM moved to this node (its claim follows it), or it now counts in another pool.
          if (await this.leases.replace({ ...lease, metadata: { ...lease.metadata, annotations: { ...lease.metadata?.annotations, ...this.annotations(holderUid, pool) } } })) return 'granted';
          continue;
        }
        if (await this.leases.holderExists(held.holderKey, held.holderUid)) return { heldBy: held.holderKey };
        this.opts.logger.info(`IP ${ip}: reclaiming the claim of ${held.holderKey}, which no longer exists`);
        await this.leases.remove(lease);
      }
    } catch (err) {
      throw new Error(`claiming IP ${ip} in namespace ${this.opts.namespace}: ${serverMessage(err)}`);
    }
    throw new Error(`claiming IP ${ip}: its claim changed ${ATTEMPTS} times while we tried; trying again later`);
  }

  async release(ip: string, holderUid: string): Promise<void> {
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const lease = await this.leases.read(ipClaimName(ip));
        const held = lease && claimOf(lease);
        // Another VM's, or the VM moved on and its new node holds it now: not ours to give back.
        if (!held || held.holderUid !== holderUid || held.node !== this.opts.node) return;
        if (await this.leases.remove(lease)) return;
      }
    } catch (err) {
      throw new Error(`releasing IP ${ip} in namespace ${this.opts.namespace}: ${serverMessage(err)}`);
    }
    throw new Error(`releasing IP ${ip}: its claim changed ${ATTEMPTS} times while we tried; trying again later`);
  }

  private annotations(holderUid: string, pool: string | undefined): Record<string, string> {
    return { [HOLDER_UID_ANNOTATION]: holderUid, [NODE_ANNOTATION]: this.opts.node, [POOL_ANNOTATION]: pool ?? '' };
  }

  private lease(ip: string, holderKey: ResourceKey, holderUid: string, pool: string | undefined): V1Lease {
    return this.leases.claimLease(ipClaimName(ip), ip.replace(/\./g, '-'), holderKey, this.annotations(holderUid, pool));
  }

  private remember(lease: V1Lease): void {
    const claim = claimOf(lease);
    if (!claim) return;
    const before = this.known.get(claim.ip);
    this.known.set(claim.ip, claim);
    if (before?.objectUid !== claim.objectUid || before.pool !== claim.pool) this.tell(claim, 'claimed');
  }

  private forget(ip: string, objectUid: string): void {
    const known = this.known.get(ip);
    if (!known || known.objectUid !== objectUid) return;
    this.known.delete(ip);
    this.tell(known, 'released');
  }

  private tell(claim: Known, change: 'claimed' | 'released'): void {
    for (const listener of this.listeners) listener(plain(claim), change);
  }
}
