// Slice VLANs: explicit ones claimed, others handed out from a range, each to one VM at most,
// rebuilt from status and domain metadata before the first reconcile. Never VLAN 0 (the old
// service handed it out; 802.1Q does not allow it) nor 1 (the switch's default VLAN).

export type VlanClaim = { ok: true } | { ok: false; holder: string };

export interface VlanRange {
  min: number;
  max: number;
}

export const DEFAULT_VLAN_RANGE: VlanRange = { min: 2, max: 4094 };

export function parseVlanRange(text: string): VlanRange {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  const range = m ? { min: Number(m[1]), max: Number(m[2]) } : undefined;
  if (!range || range.min < 2 || range.max > 4094 || range.min > range.max) {
    throw new Error(`invalid VLAN range ${JSON.stringify(text)}: expected MIN-MAX within 2-4094`);
  }
  return range;
}

export class VlanAllocator {
  private readonly byOwner = new Map<string, number>();
  private readonly byVlan = new Map<number, string>();
  /**
   * VLANs an owner moved away from, still on its running guest's port until the port is
   * retagged: nobody else may have them before settle() says the move is done.
   */
  private readonly draining = new Map<number, string>();
  /** Where the search for a free VLAN starts: after the last one handed out, so a VLAN just freed is not reused at once. */
  private cursor: number;

  constructor(readonly range: VlanRange = DEFAULT_VLAN_RANGE) {
    this.cursor = range.min;
  }

  get(owner: string): number | undefined {
    return this.byOwner.get(owner);
  }

  holder(vlan: number): string | undefined {
    return this.byVlan.get(vlan) ?? this.draining.get(vlan);
  }

  /** The owner's port carries its current VLAN now (or it stopped): what it moved away from is free. */
  settle(owner: string): void {
    for (const [vlan, holder] of this.draining) if (holder === owner) this.draining.delete(vlan);
  }

  /** Takes a specific VLAN (explicit in spec, or rebuilt from what a domain carries). */
  claim(owner: string, vlan: number): VlanClaim {
    const holder = this.holder(vlan);
    if (holder !== undefined && holder !== owner) return { ok: false, holder };
    const previous = this.byOwner.get(owner);
    if (previous !== undefined && previous !== vlan) {
      this.byVlan.delete(previous);
      this.draining.set(previous, owner);
    }
    this.draining.delete(vlan);
    this.byOwner.set(owner, vlan);
    this.byVlan.set(vlan, owner);
    return { ok: true };
  }

  /** The owner's VLAN, allocating the next free one in range; undefined when the range is exhausted. */
  allocate(owner: string): number | undefined {
    const existing = this.byOwner.get(owner);
    if (existing !== undefined) return existing;
    const size = this.range.max - this.range.min + 1;
    for (let i = 0; i < size; i++) {
      const vlan = this.range.min + ((this.cursor - this.range.min + i) % size);
      if (this.byVlan.has(vlan) || this.draining.has(vlan)) continue;
      this.cursor = vlan + 1 > this.range.max ? this.range.min : vlan + 1;
      this.claim(owner, vlan);
      return vlan;
    }
    return undefined;
  }

  /** The owner is gone (its domain too): everything it held is free. */
  release(owner: string): void {
    this.settle(owner);
    const vlan = this.byOwner.get(owner);
    if (vlan === undefined) return;
    this.byOwner.delete(owner);
    if (this.byVlan.get(vlan) === owner) this.byVlan.delete(vlan);
  }

  get inUse(): number {
    return this.byVlan.size;
  }
}
