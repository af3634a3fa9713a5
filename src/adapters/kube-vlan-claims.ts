// VLAN claims in the API server, shared by every controller of the testbed (one per node in
// DaemonSet mode): one coordination.k8s.io Lease per VLAN, named wimaxvm-vlan-<n>, in one
// namespace. Creating it is the claim: the server's 409 AlreadyExists refuses a second holder
// atomically, as Kubernetes' own IPAddress objects do for Service IPs. Taking a claim over (its
// VM moved to this node, or its VM is gone) and releasing it are guarded by uid and
// resourceVersion preconditions, so two controllers never both win. A watch keeps the claims
// known here, so automatic allocation skips VLANs taken elsewhere without asking the server.
import {
  ApiException, CoordinationV1Api, CustomObjectsApi, makeInformer,
  type Informer, type KubeConfig, type ObjectCache, type V1Lease,
} from '@kubernetes/client-node';
import { kindInfo } from '../api/kinds.js';
import { parseResourceKey, resourceKey, type ResourceKey } from '../api/meta.js';
import { VM_KIND } from '../api/virtual-machine.js';
import { errorMessage, type Logger } from '../core/logger.js';
import type { ClaimResult, VlanClaim, VlanClaims } from '../ports/vlan-claims.js';
import { WatchBackoff } from '../core/watch-backoff.js';

/** Marks wimaxvm's claims among the namespace's Leases (the leader lease has no such label). */
export const CLAIM_LABEL = 'wimaxvm.io/vlan-claim';
/** The holding VM's uid: a VM deleted and made again under the same name is another holder. */
export const HOLDER_UID_ANNOTATION = 'wimaxvm.io/holder-uid';
/** The node whose controller runs the VM ('' for a cluster-wide controller): only it releases. */
export const NODE_ANNOTATION = 'wimaxvm.io/node';
/** "true" when the holding VM's spec names the VLAN; otherwise it was handed out and yields to one that names it. */
export const EXPLICIT_ANNOTATION = 'wimaxvm.io/explicit';
/** The VM (namespace/name) whose spec names the VLAN and that asked the automatic holder to let go. */
export const WANTED_BY_ANNOTATION = 'wimaxvm.io/wanted-by';

/** Reads and writes a claim retries when another controller changed it in between. */
const ATTEMPTS = 4;

export const claimName = (vlan: number) => `wimaxvm-vlan-${vlan}`;

export interface KubeVlanClaimsOptions {
  kubeConfig: KubeConfig;
  /** The namespace every controller of the testbed claims in. */
  namespace: string;
  /** This controller's node in DaemonSet mode; '' for a cluster-wide controller. */
  node: string;
  logger: Logger;
  retryMaxMs?: number;
}

interface Known extends VlanClaim {
  node: string;
  objectUid: string;
}

const statusOf = (err: unknown) => (err instanceof ApiException ? err.code : undefined);

/** The server's own words (its Status message), not the client library's wrapping. */
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

/** What a Lease says about its claim; undefined for a Lease that is not a wimaxvm claim. */
function claimOf(lease: V1Lease): Known | undefined {
  const annotations = lease.metadata?.annotations ?? {};
  const vlan = Number(/^wimaxvm-vlan-(\d+)$/.exec(lease.metadata?.name ?? '')?.[1]);
  const holder = lease.spec?.holderIdentity ?? '';
  const holderUid = annotations[HOLDER_UID_ANNOTATION];
  if (!Number.isInteger(vlan) || !holderUid || holder.split('/').length !== 2) return undefined;
  const [namespace, name] = holder.split('/') as [string, string];
  const wanter = annotations[WANTED_BY_ANNOTATION]?.split('/');
  return {
    vlan, holderKey: resourceKey(VM_KIND, namespace, name), holderUid, node: annotations[NODE_ANNOTATION] ?? '', objectUid: lease.metadata?.uid ?? '',
    ...(annotations[EXPLICIT_ANNOTATION] === 'true' ? { explicit: true } : {}),
    ...(wanter?.length === 2 ? { wantedBy: resourceKey(VM_KIND, wanter[0]!, wanter[1]!) } : {}),
  };
}

export class KubeVlanClaims implements VlanClaims {
  private readonly leases: CoordinationV1Api;
  private readonly vms: CustomObjectsApi;
  private readonly known = new Map<number, Known>();
  private readonly listeners: ((claim: VlanClaim) => void)[] = [];
  private readonly wantedListeners: ((claim: VlanClaim) => void)[] = [];
  private readonly informer: Informer<V1Lease> & ObjectCache<V1Lease>;
  private retry: NodeJS.Timeout | undefined;
  private readonly backoff: WatchBackoff;
  private stopped = false;

  constructor(private readonly opts: KubeVlanClaimsOptions) {
    this.leases = opts.kubeConfig.makeApiClient(CoordinationV1Api);
    this.vms = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    const list = () => this.leases.listNamespacedLease({ namespace: opts.namespace, labelSelector: CLAIM_LABEL });
    this.informer = makeInformer<V1Lease>(opts.kubeConfig, `/apis/coordination.k8s.io/v1/namespaces/${opts.namespace}/leases`, list as never, CLAIM_LABEL);
    this.backoff = new WatchBackoff(opts.retryMaxMs !== undefined ? { maxMs: opts.retryMaxMs } : {});
    this.informer.on('connect', () => this.backoff.attempt());
    this.informer.on('add', (lease) => { this.backoff.delivered(); this.remember(lease); });
    this.informer.on('update', (lease) => { this.backoff.delivered(); this.remember(lease); });
    this.informer.on('delete', (lease) => {
      this.backoff.delivered();
      const claim = claimOf(lease);
      if (claim) this.forget(claim.vlan, claim.objectUid);
    });
    this.informer.on('error', (err) => this.restartWatch(err));
  }

  /** Resolves once the claims are listed. */
  async start(): Promise<void> {
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.informer.stop();
  }

  list(): VlanClaim[] {
    return [...this.known.values()].map(({ vlan, holderKey, holderUid, explicit, wantedBy }) => ({
      vlan, holderKey, holderUid, ...(explicit ? { explicit } : {}), ...(wantedBy ? { wantedBy } : {}),
    }));
  }

  onReleased(listener: (claim: VlanClaim) => void): void {
    this.listeners.push(listener);
  }

  onWanted(listener: (claim: VlanClaim) => void): void {
    this.wantedListeners.push(listener);
  }

  async claim(vlan: number, holderKey: ResourceKey, holderUid: string, explicit = false): Promise<ClaimResult> {
    const cached = this.known.get(vlan);
    const current = (held: Known) => held.node === this.opts.node && (held.explicit === true) === explicit;
    if (cached?.holderUid === holderUid && current(cached)) return 'granted';
    // Known to be another VM's: look before writing, so a VM waiting for it costs reads, not refused creates.
    let create = cached === undefined;
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        if (create && (await this.create(vlan, holderKey, holderUid, explicit))) return 'granted';
        create = true;
        const lease = await this.read(vlan);
        if (!lease) continue; // released in between: create again
        const held = claimOf(lease);
        if (!held) return { heldBy: resourceKey('Lease', this.opts.namespace, claimName(vlan)), explicit: true }; // not ours to touch: never yields
        if (held.holderUid === holderUid) {
          if (current(held)) {
            this.remember(lease);
            return 'granted';
          }
          // The VM moved to this node (its claim follows it, so the old node's cleanup leaves it
          // be), or its spec started or stopped naming the VLAN.
          if (await this.takeOver(lease, holderKey, holderUid, explicit)) return 'granted';
          continue;
        }
        if (await this.holderExists(held)) return { heldBy: held.holderKey, explicit: held.explicit === true };
        // Its VM is gone (deleted while its controller could not release): free for the taking.
        this.opts.logger.info(`VLAN ${vlan}: reclaiming the claim of ${held.holderKey}, which no longer exists`);
        await this.remove(lease);
      }
    } catch (err) {
      throw new Error(`claiming VLAN ${vlan} in namespace ${this.opts.namespace}: ${serverMessage(err)}`);
    }
    throw new Error(`claiming VLAN ${vlan}: its claim changed ${ATTEMPTS} times while we tried; trying again later`);
  }

  async request(vlan: number, wanterKey: ResourceKey): Promise<void> {
    const { namespace, name } = parseResourceKey(wanterKey);
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const lease = await this.read(vlan);
        const held = lease && claimOf(lease);
        if (!held || held.explicit || held.holderKey === wanterKey || held.wantedBy === wanterKey) return;
        const body: V1Lease = { ...lease, metadata: { ...lease.metadata, annotations: { ...lease.metadata?.annotations, [WANTED_BY_ANNOTATION]: `${namespace}/${name}` } } };
        if (await this.replace(body)) return;
      }
    } catch (err) {
      throw new Error(`asking for VLAN ${vlan} in namespace ${this.opts.namespace}: ${serverMessage(err)}`);
    }
  }

  async release(vlan: number, holderUid: string): Promise<void> {
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const lease = await this.read(vlan);
        const held = lease && claimOf(lease);
        // Another VM's, or the VM moved on and its new node holds it now: not ours to give back.
        if (!held || held.holderUid !== holderUid || held.node !== this.opts.node) return;
        if (await this.remove(lease)) return;
      }
    } catch (err) {
      throw new Error(`releasing VLAN ${vlan} in namespace ${this.opts.namespace}: ${serverMessage(err)}`);
    }
    throw new Error(`releasing VLAN ${vlan}: its claim changed ${ATTEMPTS} times while we tried; trying again later`);
  }

  /** Creates the claim; false when one exists (the server's AlreadyExists). */
  private async create(vlan: number, holderKey: ResourceKey, holderUid: string, explicit: boolean): Promise<boolean> {
    try {
      this.remember(await this.leases.createNamespacedLease({ namespace: this.opts.namespace, body: this.lease(vlan, holderKey, holderUid, explicit) }));
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw err;
    }
  }

  /** Rewrites the claim for this node; false when it changed since read (409) or went (404). */
  private async takeOver(current: V1Lease, holderKey: ResourceKey, holderUid: string, explicit: boolean): Promise<boolean> {
    const vlan = claimOf(current)!.vlan;
    const body = this.lease(vlan, holderKey, holderUid, explicit);
    const annotations = { ...current.metadata?.annotations, ...body.metadata!.annotations };
    // A VM that names the VLAN itself keeps it: a request made of it while it did not is void.
    if (explicit) delete annotations[WANTED_BY_ANNOTATION];
    body.metadata = { ...current.metadata, ...body.metadata, annotations };
    return this.replace(body);
  }

  /** Writes the claim as read and changed (resourceVersion guards it); false when it changed since (409) or went (404). */
  private async replace(body: V1Lease): Promise<boolean> {
    try {
      this.remember(await this.leases.replaceNamespacedLease({ name: body.metadata!.name!, namespace: this.opts.namespace, body }));
      return true;
    } catch (err) {
      if (statusOf(err) === 409 || statusOf(err) === 404) return false;
      throw err;
    }
  }

  /** Deletes exactly the claim read (uid and resourceVersion); false when it changed since. */
  private async remove(lease: V1Lease): Promise<boolean> {
    const { name, uid, resourceVersion } = lease.metadata!;
    try {
      await this.leases.deleteNamespacedLease({ name: name!, namespace: this.opts.namespace, body: { preconditions: { uid: uid!, resourceVersion: resourceVersion! } } });
    } catch (err) {
      if (statusOf(err) === 409) return false;
      if (statusOf(err) !== 404) throw err;
    }
    const claim = claimOf(lease);
    if (claim) this.forget(claim.vlan, claim.objectUid);
    return true;
  }

  private async read(vlan: number): Promise<V1Lease | undefined> {
    try {
      return await this.leases.readNamespacedLease({ name: claimName(vlan), namespace: this.opts.namespace });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** Whether the claim's VM still exists (the same one: a VM made again under its name is another). */
  private async holderExists(claim: VlanClaim): Promise<boolean> {
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

  private lease(vlan: number, holderKey: ResourceKey, holderUid: string, explicit: boolean): V1Lease {
    const { namespace, name } = parseResourceKey(holderKey);
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: claimName(vlan),
        namespace: this.opts.namespace,
        labels: { [CLAIM_LABEL]: String(vlan), 'app.kubernetes.io/managed-by': 'wimaxvm' },
        annotations: { [HOLDER_UID_ANNOTATION]: holderUid, [NODE_ANNOTATION]: this.opts.node, [EXPLICIT_ANNOTATION]: String(explicit) },
      },
      // No duration: a claim lasts until released, not until a renew is missed.
      spec: { holderIdentity: `${namespace}/${name}` },
    };
  }

  private remember(lease: V1Lease): void {
    const claim = claimOf(lease);
    if (claim) {
      const before = this.known.get(claim.vlan);
      this.known.set(claim.vlan, claim);
      // Asked of one of this node's VMs: its holder looks again and moves.
      if (claim.wantedBy && claim.node === this.opts.node && (before?.wantedBy !== claim.wantedBy || before.objectUid !== claim.objectUid)) {
        for (const listener of this.wantedListeners) listener({ vlan: claim.vlan, holderKey: claim.holderKey, holderUid: claim.holderUid, wantedBy: claim.wantedBy });
      }
      return;
    }
    // Edited by hand into something that is no claim of ours: it still blocks the VLAN, but not as a claim we know.
    const vlan = Number(/^wimaxvm-vlan-(\d+)$/.exec(lease.metadata?.name ?? '')?.[1]);
    if (this.known.get(vlan)?.objectUid === lease.metadata?.uid) this.known.delete(vlan);
  }

  /** The claim with this object uid is gone (a newer one under the same name stays known). */
  private forget(vlan: number, objectUid: string): void {
    const known = this.known.get(vlan);
    if (!known || known.objectUid !== objectUid) return;
    this.known.delete(vlan);
    for (const listener of this.listeners) listener({ vlan, holderKey: known.holderKey, holderUid: known.holderUid });
  }

  /**
   * The client library's informer stops for good on an error other than 410: start it again,
   * with the same backoff as the source's watches (its start() resolves even when it failed, so
   * that is no sign of health).
   */
  private restartWatch(err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoff.failed();
    this.opts.logger.warn('VLAN claims watch failed, restarting', { error: serverMessage(err), retryInMs: delay });
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (!this.stopped) this.informer.start().catch(() => { /* reported through 'error' again */ });
    }, delay);
  }
}
