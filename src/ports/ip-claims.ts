// An IPv4 address is one guest's only, whichever pool (or fixed spec.network.ip) it came from.
// The claims registry is the arbiter, as for VLANs (vlan-claims.ts): an address is used only once
// claimed for the VM, and a claim is refused while another VM holds it. Kubernetes mode keeps
// claims in the API server (one object per address, created or refused atomically, cluster-wide),
// so a restart, a lost state directory or a second controller never hands an address twice; file
// mode has one controller per directory and rebuilds its registry from status and domain metadata.
import type { ResourceKey } from '../api/meta.js';

export type IpClaimResult = 'granted' | { heldBy: ResourceKey };

export interface IpClaim {
  ip: string;
  holderKey: ResourceKey;
  holderUid: string;
  /** The pool (namespace/name) it was claimed in, when one holds it. */
  pool?: string;
}

export interface IpClaims {
  /**
   * Takes `ip` for the VM, or says who holds it. The same VM (by uid) asking again is granted.
   * A claim whose holder no longer exists is taken over. Throws when the registry cannot answer.
   */
  claim(ip: string, holderKey: ResourceKey, holderUid: string, pool?: string): Promise<IpClaimResult>;
  /** Gives `ip` back if this VM holds it; a no-op otherwise. */
  release(ip: string, holderUid: string): Promise<void>;
  /** The claims known now (in Kubernetes, as last watched). */
  list(): IpClaim[];
  get(ip: string): IpClaim | undefined;
  /** Told when a claim comes or goes, so pools recount and VMs waiting for an address look again. */
  onChange(listener: (claim: IpClaim, change: 'claimed' | 'released') => void): void;
}
