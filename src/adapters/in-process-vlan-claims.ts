// VLAN claims held in the process: file mode's registry (one controller arbitrates for itself).
import type { ResourceKey } from '../api/meta.js';
import type { ClaimResult, VlanClaim, VlanClaims } from '../ports/vlan-claims.js';

export class InProcessVlanClaims implements VlanClaims {
  private readonly claims = new Map<number, VlanClaim>();
  /** The VLANs each holder (by uid) has claimed: a new VM asks without a scan of every claim. */
  private readonly byHolder = new Map<string, Set<number>>();
  private readonly listeners: ((claim: VlanClaim) => void)[] = [];
  private readonly wantedListeners: ((claim: VlanClaim) => void)[] = [];
  /** What list() returns until a claim changes: every reconcile asks, and claims rarely change. */
  private snapshot: readonly VlanClaim[] | undefined;

  async claim(vlan: number, holderKey: ResourceKey, holderUid: string, explicit = false): Promise<ClaimResult> {
    const held = this.claims.get(vlan);
    if (held && held.holderUid !== holderUid) return { heldBy: held.holderKey, explicit: held.explicit === true };
    // The same holder again keeps a request made of it, unless it now names the VLAN itself.
    const wantedBy = !explicit && held?.wantedBy ? held.wantedBy : undefined;
    // Claimed again as it is (every reconcile of its holder does): nothing changes.
    if (held && held.holderKey === holderKey && (held.explicit === true) === explicit && held.wantedBy === wantedBy) return 'granted';
    this.claims.set(vlan, { vlan, holderKey, holderUid, ...(explicit ? { explicit } : {}), ...(wantedBy ? { wantedBy } : {}) });
    this.index(holderUid, vlan, true);
    this.snapshot = undefined;
    return 'granted';
  }

  async request(vlan: number, wanterKey: ResourceKey): Promise<void> {
    const held = this.claims.get(vlan);
    if (!held || held.explicit || held.holderKey === wanterKey || held.wantedBy === wanterKey) return;
    held.wantedBy = wanterKey;
    this.snapshot = undefined;
    for (const listener of this.wantedListeners) listener({ ...held });
  }

  async release(vlan: number, holderUid: string): Promise<void> {
    const held = this.claims.get(vlan);
    if (held?.holderUid !== holderUid) return;
    this.claims.delete(vlan);
    this.index(holderUid, vlan, false);
    this.snapshot = undefined;
    for (const listener of this.listeners) listener(held);
  }

  /** Copies, made once per change and shared until the next (callers read them). */
  list(): VlanClaim[] {
    this.snapshot ??= Object.freeze([...this.claims.values()].map((c) => ({ ...c })));
    return this.snapshot as VlanClaim[];
  }

  get(vlan: number): VlanClaim | undefined {
    const held = this.claims.get(vlan);
    return held && { ...held };
  }

  heldBy(holderUid: string): VlanClaim[] {
    return [...this.byHolder.get(holderUid) ?? []].map((vlan) => ({ ...this.claims.get(vlan)! }));
  }

  private index(holderUid: string, vlan: number, held: boolean): void {
    const vlans = this.byHolder.get(holderUid) ?? new Set<number>();
    if (held) vlans.add(vlan);
    else vlans.delete(vlan);
    if (vlans.size) this.byHolder.set(holderUid, vlans);
    else this.byHolder.delete(holderUid);
  }

  onWanted(listener: (claim: VlanClaim) => void): void {
    this.wantedListeners.push(listener);
  }

  onReleased(listener: (claim: VlanClaim) => void): void {
    this.listeners.push(listener);
  }
}
