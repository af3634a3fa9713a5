// IP claims in the API server, cluster-wide, as VLAN claims are (kube-vlan-claims.ts) and as
// Kubernetes' own IPAddress objects are for Service IPs: one coordination.k8s.io Lease per
// address, named wimaxvm-ip-<a>-<b>-<c>-<d>, in the claims namespace. Creating it is the claim
// (409 AlreadyExists refuses a second holder atomically); taking it over (its VM moved to this
// node, or its VM is gone) and releasing it run under uid/resourceVersion preconditions. A watch
// keeps the claims known here, for pool counts and for skipping addresses taken elsewhere.
import {
  ApiException, CoordinationV1Api, CustomObjectsApi, makeInformer,
  type Informer, type KubeConfig, type ObjectCache, type V1Lease,
} from '@kubernetes/client-node';
import { kindInfo } from '../api/kinds.js';
import { parseResourceKey, resourceKey, type ResourceKey } from '../api/meta.js';
import { VM_KIND } from '../api/virtual-machine.js';
import { errorMessage, type Logger } from '../core/logger.js';
import { WatchBackoff } from '../core/watch-backoff.js';
import type { IpClaim, IpClaimResult, IpClaims } from '../ports/ip-claims.js';
import { HOLDER_UID_ANNOTATION, NODE_ANNOTATION } from './kube-vlan-claims.js';

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

const statusOf = (err: unknown) => (err instanceof ApiException ? err.code : undefined);

function serverMessage(err: unknown): string {
  if (err instanceof ApiException) {
    try {
      const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { message?: string };
      if (body?.message) return `${body.message} (HTTP ${err.code})`;
    } catch { /* not a Status */ }
    return `HTTP ${err.code}`;
  }
  return errorMessage(err);
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
  private readonly leases: CoordinationV1Api;
  private readonly vms: CustomObjectsApi;
  private readonly known = new Map<string, Known>();
  private readonly listeners: ((claim: IpClaim, change: 'claimed' | 'released') => void)[] = [];
  private readonly informer: Informer<V1Lease> & ObjectCache<V1Lease>;
  private readonly backoff: WatchBackoff;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: KubeIpClaimsOptions) {
    this.leases = opts.kubeConfig.makeApiClient(CoordinationV1Api);
    this.vms = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    const list = () => this.leases.listNamespacedLease({ namespace: opts.namespace, labelSelector: IP_CLAIM_LABEL });
    this.informer = makeInformer<V1Lease>(opts.kubeConfig, `/apis/coordination.k8s.io/v1/namespaces/${opts.namespace}/leases`, list as never, IP_CLAIM_LABEL);
    this.backoff = new WatchBackoff(opts.retryMaxMs !== undefined ? { maxMs: opts.retryMaxMs } : {});
    this.informer.on('connect', () => this.backoff.attempt());
    this.informer.on('add', (lease) => { this.backoff.delivered(); this.remember(lease); });
    this.informer.on('update', (lease) => { this.backoff.delivered(); this.remember(lease); });
    this.informer.on('delete', (lease) => {
      this.backoff.delivered();
      const claim = claimOf(lease);
      if (claim) this.forget(claim.ip, claim.objectUid);
    });
    this.informer.on('error', (err) => this.restartWatch(err));
  }

  async start(): Promise<void> {
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.informer.stop();
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
        if (create && (await this.create(ip, holderKey, holderUid, pool))) return 'granted';
        create = true;
        const lease = await this.read(ip);
        if (!lease) continue; // released in between: create again
        const held = claimOf(lease);
        if (!held) return { heldBy: resourceKey('Lease', this.opts.namespace, ipClaimName(ip)) }; // not ours to touch
        if (held.holderUid === holderUid) {
          if (current(held)) {
            this.remember(lease);
            return 'granted';
          }
          // The VM moved to this node (its claim follows it), or it now counts in another pool.
          if (await this.replace({ ...lease, metadata: { ...lease.metadata, annotations: { ...lease.metadata?.annotations, ...this.annotations(holderUid, pool) } } })) return 'granted';
          continue;
        }
        if (await this.holderExists(held)) return { heldBy: held.holderKey };
        this.opts.logger.info(`IP ${ip}: reclaiming the claim of ${held.holderKey}, which no longer exists`);
        await this.remove(lease);
      }
    } catch (err) {
      throw new Error(`claiming IP ${ip} in namespace ${this.opts.namespace}: ${serverMessage(err)}`);
    }
    throw new Error(`claiming IP ${ip}: its claim changed ${ATTEMPTS} times while we tried; trying again later`);
  }

  async release(ip: string, holderUid: string): Promise<void> {
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const lease = await this.read(ip);
        const held = lease && claimOf(lease);
        // Another VM's, or the VM moved on and its new node holds it now: not ours to give back.
        if (!held || held.holderUid !== holderUid || held.node !== this.opts.node) return;
        if (await this.remove(lease)) return;
      }
    } catch (err) {
      throw new Error(`releasing IP ${ip} in namespace ${this.opts.namespace}: ${serverMessage(err)}`);
    }
    throw new Error(`releasing IP ${ip}: its claim changed ${ATTEMPTS} times while we tried; trying again later`);
  }

  private annotations(holderUid: string, pool: string | undefined): Record<string, string> {
    return { [HOLDER_UID_ANNOTATION]: holderUid, [NODE_ANNOTATION]: this.opts.node, [POOL_ANNOTATION]: pool ?? '' };
  }

  private async create(ip: string, holderKey: ResourceKey, holderUid: string, pool: string | undefined): Promise<boolean> {
    const { namespace, name } = parseResourceKey(holderKey);
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: ipClaimName(ip),
        namespace: this.opts.namespace,
        labels: { [IP_CLAIM_LABEL]: ip.replace(/\./g, '-'), 'app.kubernetes.io/managed-by': 'wimaxvm' },
        annotations: this.annotations(holderUid, pool),
      },
      // No duration: a claim lasts until released, not until a renew is missed.
      spec: { holderIdentity: `${namespace}/${name}` },
    };
    try {
      this.remember(await this.leases.createNamespacedLease({ namespace: this.opts.namespace, body }));
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw err;
    }
  }

  private async replace(body: V1Lease): Promise<boolean> {
    try {
      this.remember(await this.leases.replaceNamespacedLease({ name: body.metadata!.name!, namespace: this.opts.namespace, body }));
      return true;
    } catch (err) {
      if (statusOf(err) === 409 || statusOf(err) === 404) return false;
      throw err;
    }
  }

  private async remove(lease: V1Lease): Promise<boolean> {
    const { name, uid, resourceVersion } = lease.metadata!;
    try {
      await this.leases.deleteNamespacedLease({ name: name!, namespace: this.opts.namespace, body: { preconditions: { uid: uid!, resourceVersion: resourceVersion! } } });
    } catch (err) {
      if (statusOf(err) === 409) return false;
      if (statusOf(err) !== 404) throw err;
    }
    const claim = claimOf(lease);
    if (claim) this.forget(claim.ip, claim.objectUid);
    return true;
  }

  private async read(ip: string): Promise<V1Lease | undefined> {
    try {
      return await this.leases.readNamespacedLease({ name: ipClaimName(ip), namespace: this.opts.namespace });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  private async holderExists(claim: IpClaim): Promise<boolean> {
    const { namespace, name } = parseResourceKey(claim.holderKey);
    const { group, version, plural } = kindInfo(VM_KIND);
    try {
      const vm = (await this.vms.getNamespacedCustomObject({ group, version, plural, namespace, name })) as { metadata?: { uid?: string } };
      return vm.metadata?.uid === claim.holderUid;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
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

  private restartWatch(err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoff.failed();
    this.opts.logger.warn('IP claims watch failed, restarting', { error: serverMessage(err), retryInMs: delay });
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (!this.stopped) this.informer.start().catch(() => { /* reported through 'error' again */ });
    }, delay);
  }
}
