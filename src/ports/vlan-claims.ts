// A slice's VLAN is unique across the whole testbed (stations reach every slice through one
// base-station uplink), not only among one controller's VMs. The claims registry is the arbiter:
// a VLAN is used only once it is claimed for the VM, and a claim is refused while another VM
// holds it. Kubernetes mode keeps claims in the API server (one object per VLAN, created or
// refused atomically); file mode has one controller, so a registry in the process suffices.
// A claim says whether its VM's spec names the VLAN (explicit) or it was handed out: a VM that
// names a VLAN held automatically elsewhere asks for it (request), and the holder's controller
// moves that VM to another VLAN and releases the claim.
import type { ResourceKey } from '../api/meta.js';

/** Granted, or the key of the VM that holds the VLAN and whether its spec names it. */
export type ClaimResult = 'granted' | { heldBy: ResourceKey; explicit: boolean };

export interface VlanClaim {
  vlan: number;
  holderKey: ResourceKey;
  holderUid: string;
  /** The holder's spec names this VLAN (it does not give it up to another VM that names it). */
  explicit?: boolean;
  /** A VM whose spec names this VLAN asked the (automatic) holder to let go of it. */
  wantedBy?: ResourceKey;
}

export interface VlanClaims {
  /**
   * Takes `vlan` for the VM, or says who holds it. The same VM (by uid) asking again is granted.
   * A claim whose holder no longer exists is taken over. Throws when the registry cannot answer.
   */
  claim(vlan: number, holderKey: ResourceKey, holderUid: string, explicit?: boolean): Promise<ClaimResult>;
  /**
   * The VM `wanterKey`, whose spec names `vlan`, asks its holder to let go. Only a claim that is
   * not explicit is marked; its holder's controller is told (onWanted) and moves that VM.
   */
  request(vlan: number, wanterKey: ResourceKey): Promise<void>;
  /** Gives `vlan` back if this VM holds it here; a no-op otherwise (another VM's claim, or one that moved on). */
  release(vlan: number, holderUid: string): Promise<void>;
  /** The claims known now (in Kubernetes, as last watched): what an automatic allocation skips. */
  list(): VlanClaim[];
  /** The claim on `vlan` known now, as list() has it: asked at every reconcile, so without copying the whole list. */
  get?(vlan: number): VlanClaim | undefined;
  /** The claims the VM `holderUid` holds, as list() has them: asked for every new VM, so without scanning the whole list. */
  heldBy?(holderUid: string): VlanClaim[];
  /** Told when a claim goes away, so VMs waiting for that VLAN look again. */
  onReleased(listener: (claim: VlanClaim) => void): void;
  /** Told when another VM asks for a claim's VLAN, so that its holder looks again (and moves). */
  onWanted(listener: (claim: VlanClaim) => void): void;
}
