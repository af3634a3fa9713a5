// VLAN claims in the API server, shared by every controller of the testbed (one per node in
// DaemonSet mode): one coordination.k8s.io Lease per VLAN, named wimaxvm-vlan-<n>, in one
// namespace. Creating it is the claim: the server's 409 AlreadyExists refuses a second holder
// atomically, as Kubernetes' own IPAddress objects do for Service IPs. Taking a claim over (its
// VM moved to this node, or its VM is gone) and releasing it are guarded by uid and
// resourceVersion preconditions, so two controllers never both win. A watch keeps the claims
// known here, so automatic allocation skips VLANs taken elsewhere without asking the server.
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import { parseResourceKey, resourceKey, type ResourceKey } from '../api/meta.js';
import { VM_KIND } from '../api/virtual-machine.js';
import type { Logger } from '../core/logger.js';
import type { ClaimResult, VlanClaim, VlanClaims } from '../ports/vlan-claims.js';
import { HOLDER_UID_ANNOTATION, LeaseClaimStore, NODE_ANNOTATION, serverMessage } from './kube-lease-claims.js';

/** Marks wimaxvm's claims among the namespace's Leases (the leader lease has no such label). */
export const CLAIM_LABEL = 'wimaxvm.io/vlan-claim';
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
  private readonly known = new Map<number, Known>();
  private readonly listeners: ((claim: VlanClaim) => void)[] = [];
  private readonly wantedListeners: ((claim: VlanClaim) => void)[] = [];
  private readonly leases: LeaseClaimStore;

  constructor(private readonly opts: KubeVlanClaimsOptions) {
    this.leases = new LeaseClaimStore({
      ...opts, label: CLAIM_LABEL, what: 'VLAN claims',
      onLease: (lease) => this.remember(lease),
      onDeleted: (lease) => {
        const claim = claimOf(lease);
        if (claim) this.forget(claim.vlan, claim.objectUid);
      },
    });
  }

  /** Resolves once the claims are listed. */
  async start(): Promise<void> {
    await this.leases.start();
  }

  async stop(): Promise<void> {
    await this.leases.stop();
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
        if (create && (await this.leases.create(this.lease(vlan, holderKey, holderUid, explicit)))) return 'granted';
        create = true;
        const lease = await this.leases.read(claimName(vlan));
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
        if (await this.leases.holderExists(held.holderKey, held.holderUid)) return { heldBy: held.holderKey, explicit: held.explicit === true };
        // Its VM is gone (deleted while its controller could not release): free for the taking.
        this.opts.logger.info(`VLAN ${vlan}: reclaiming the claim of ${held.holderKey}, which no longer exists`);
        await this.leases.remove(lease);
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
        const lease = await this.leases.read(claimName(vlan));
        const held = lease && claimOf(lease);
        if (!held || held.explicit || held.holderKey === wanterKey || held.wantedBy === wanterKey) return;
        const body: V1Lease = { ...lease, metadata: { ...lease.metadata, annotations: { ...lease.metadata?.annotations, [WANTED_BY_ANNOTATION]: `${namespace}/${name}` } } };
        if (await this.leases.replace(body)) return;
      }
    } catch (err) {
      throw new Error(`asking for VLAN ${vlan} in namespace ${this.opts.namespace}: ${serverMessage(err)}`);
    }
  }

  async release(vlan: number, holderUid: string): Promise<void> {
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const lease = await this.leases.read(claimName(vlan));
        const held = lease && claimOf(lease);
        // Another VM's, or the VM moved on and its new node holds it now: not ours to give back.
        if (!held || held.holderUid !== holderUid || held.node !== this.opts.node) return;
        if (await this.leases.remove(lease)) return;
      }
    } catch (err) {
      throw new Error(`releasing VLAN ${vlan} in namespace ${this.opts.namespace}: ${serverMessage(err)}`);
    }
    throw new Error(`releasing VLAN ${vlan}: its claim changed ${ATTEMPTS} times while we tried; trying again later`);
  }

  /** Rewrites the claim for this node; false when it changed since read (409) or went (404). */
  private async takeOver(current: V1Lease, holderKey: ResourceKey, holderUid: string, explicit: boolean): Promise<boolean> {
    const vlan = claimOf(current)!.vlan;
    const body = this.lease(vlan, holderKey, holderUid, explicit);
    const annotations = { ...current.metadata?.annotations, ...body.metadata!.annotations };
    // A VM that names the VLAN itself keeps it: a request made of it while it did not is void.
    if (explicit) delete annotations[WANTED_BY_ANNOTATION];
    body.metadata = { ...current.metadata, ...body.metadata, annotations };
    return this.leases.replace(body);
  }

  private lease(vlan: number, holderKey: ResourceKey, holderUid: string, explicit: boolean): V1Lease {
    return this.leases.claimLease(claimName(vlan), String(vlan), holderKey,
      { [HOLDER_UID_ANNOTATION]: holderUid, [NODE_ANNOTATION]: this.opts.node, [EXPLICIT_ANNOTATION]: String(explicit) });
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
}
