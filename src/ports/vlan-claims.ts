// A slice's VLAN is unique across the whole testbed (stations reach every slice through one
// base-station uplink), not only among one controller's VMs. The claims registry is the arbiter:
// a VLAN is used only once it is claimed for the VM, and a claim is refused while another VM
// holds it. Kubernetes mode keeps claims in the API server (one object per VLAN, created or
// refused atomically); file mode has one controller, so a registry in the process suffices.
import type { ResourceKey } from '../api/meta.js';

/** Granted, or the key of the VM that holds the VLAN. */
export type ClaimResult = 'granted' | { heldBy: ResourceKey };

export interface VlanClaim {
  vlan: number;
  holderKey: ResourceKey;
  holderUid: string;
}

export interface VlanClaims {
  /**
   * Takes `vlan` for the VM, or says who holds it. The same VM (by uid) asking again is granted.
   * A claim whose holder no longer exists is taken over. Throws when the registry cannot answer.
   */
  claim(vlan: number, holderKey: ResourceKey, holderUid: string): Promise<ClaimResult>;
  /** Gives `vlan` back if this VM holds it here; a no-op otherwise (another VM's claim, or one that moved on). */
  release(vlan: number, holderUid: string): Promise<void>;
  /** The claims known now (in Kubernetes, as last watched): what an automatic allocation skips. */
  list(): VlanClaim[];
  /** Told when a claim goes away, so VMs waiting for that VLAN look again. */
  onReleased(listener: (claim: VlanClaim) => void): void;
}
