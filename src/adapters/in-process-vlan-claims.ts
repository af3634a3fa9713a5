// VLAN claims held in the process: file mode's registry (one controller arbitrates for itself).
import type { ResourceKey } from '../api/meta.js';
import type { ClaimResult, VlanClaim, VlanClaims } from '../ports/vlan-claims.js';

export class InProcessVlanClaims implements VlanClaims {
  private readonly claims = new Map<number, VlanClaim>();
  private readonly listeners: ((claim: VlanClaim) => void)[] = [];
  private readonly wantedListeners: ((claim: VlanClaim) => void)[] = [];

  async claim(vlan: number, holderKey: ResourceKey, holderUid: string, explicit = false): Promise<ClaimResult> {
    const held = this.claims.get(vlan);
    if (held && held.holderUid !== holderUid) return { heldBy: held.holderKey, explicit: held.explicit === true };
    // The same holder again keeps a request made of it, unless it now names the VLAN itself.
    const wantedBy = !explicit && held?.wantedBy ? { wantedBy: held.wantedBy } : {};
    this.claims.set(vlan, { vlan, holderKey, holderUid, ...(explicit ? { explicit } : {}), ...wantedBy });
    return 'granted';
  }

  async request(vlan: number, wanterKey: ResourceKey): Promise<void> {
    const held = this.claims.get(vlan);
    if (!held || held.explicit || held.holderKey === wanterKey || held.wantedBy === wanterKey) return;
    held.wantedBy = wanterKey;
    for (const listener of this.wantedListeners) listener({ ...held });
  }

  async release(vlan: number, holderUid: string): Promise<void> {
    const held = this.claims.get(vlan);
    if (held?.holderUid !== holderUid) return;
    this.claims.delete(vlan);
    for (const listener of this.listeners) listener(held);
  }

  list(): VlanClaim[] {
    return [...this.claims.values()].map((c) => ({ ...c }));
  }

  onWanted(listener: (claim: VlanClaim) => void): void {
    this.wantedListeners.push(listener);
  }

  onReleased(listener: (claim: VlanClaim) => void): void {
    this.listeners.push(listener);
  }
}
