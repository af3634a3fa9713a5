// VLAN claims held in the process: file mode's registry (one controller arbitrates for itself).
import type { ResourceKey } from '../api/meta.js';
import type { ClaimResult, VlanClaim, VlanClaims } from '../ports/vlan-claims.js';

export class InProcessVlanClaims implements VlanClaims {
  private readonly claims = new Map<number, VlanClaim>();
  private readonly listeners: ((claim: VlanClaim) => void)[] = [];

  async claim(vlan: number, holderKey: ResourceKey, holderUid: string): Promise<ClaimResult> {
    const held = this.claims.get(vlan);
    if (held && held.holderUid !== holderUid) return { heldBy: held.holderKey };
    this.claims.set(vlan, { vlan, holderKey, holderUid });
    return 'granted';
  }

  async release(vlan: number, holderUid: string): Promise<void> {
    const held = this.claims.get(vlan);
    if (held?.holderUid !== holderUid) return;
    this.claims.delete(vlan);
    for (const listener of this.listeners) listener(held);
  }

  list(): VlanClaim[] {
    return [...this.claims.values()];
  }

  onReleased(listener: (claim: VlanClaim) => void): void {
    this.listeners.push(listener);
  }
}
