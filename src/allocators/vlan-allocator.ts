// Slice VLANs: explicit ones claimed, others handed out from a range, each to one VM at most,
// rebuilt from status and domain metadata before the first reconcile. Never VLAN 0 (the old
// service handed it out; 802.1Q does not allow it) nor 1 (the switch's default VLAN).
// A VLAN a VM's spec names (declares) wins over one handed out automatically: the automatic
// holder moves to another VLAN, and no automatic allocation takes a declared VLAN.

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
  /** The VLAN each owner's spec names, if it names one; and who names each VLAN. */
  private readonly declared = new Map<string, number>();
  private readonly declarers = new Map<number, Set<string>>();
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

  /** Every VLAN the owner holds: its current one and those it is moving away from. */
  held(owner: string): number[] {
    const vlans = this.movingFrom(owner);
    const current = this.byOwner.get(owner);
    return current !== undefined && this.byVlan.get(current) === owner ? [current, ...vlans] : vlans;
  }

  /** VLANs the owner is moving away from (still on its port until settle()). */
  movingFrom(owner: string): number[] {
    return [...this.draining].filter(([, holder]) => holder === owner).map(([vlan]) => vlan);
  }

  /** The owner's port carries its current VLAN now (or it stopped): what it moved away from is free. Returns those VLANs. */
  settle(owner: string): number[] {
    const freed: number[] = [];
    for (const [vlan, holder] of this.draining) {
      if (holder !== owner) continue;
      this.draining.delete(vlan);
      freed.push(vlan);
    }
    return freed;
  }

  /** Records the VLAN the owner's spec names (undefined: none, it takes whatever it is given). */
  declare(owner: string, vlan: number | undefined): void {
    const before = this.declared.get(owner);
    if (before === vlan) return;
    if (before !== undefined) {
      const names = this.declarers.get(before)!;
      names.delete(owner);
      if (!names.size) this.declarers.delete(before);
    }
    if (vlan === undefined) return void this.declared.delete(owner);
    this.declared.set(owner, vlan);
    if (!this.declarers.has(vlan)) this.declarers.set(vlan, new Set());
    this.declarers.get(vlan)!.add(owner);
  }

  /** The owners whose spec names this VLAN (waiting for it, or holding it). */
  declarersOf(vlan: number): string[] {
    return [...(this.declarers.get(vlan) ?? [])];
  }

  /** Whether the owner's spec names this VLAN. */
  declares(owner: string, vlan: number): boolean {
    return this.declared.get(owner) === vlan;
  }

  /**
   * Another owner whose spec names `vlan` while `owner` holds it without naming it: `owner` must
   * move off it. Undefined when nobody else wants it, or when `owner` names it too (then the
   * first to hold it keeps it and the other reports a conflict).
   */
  wantedFrom(owner: string, vlan: number): string | undefined {
    if (this.declares(owner, vlan)) return undefined;
    for (const other of this.declarers.get(vlan) ?? []) if (other !== owner) return other;
    return undefined;
  }

  /**
   * The owner's spec names `vlan` (recorded here): whether it is free for the owner, or who holds
   * it and whether that holder yields (its spec does not name it, so it moves to another VLAN).
   */
  ask(owner: string, vlan: number): { free: true } | { free: false; holder: string; yields: boolean } {
    this.declare(owner, vlan);
    const holder = this.holder(vlan);
    if (holder === undefined || holder === owner) return { free: true };
    return { free: false, holder, yields: !this.declares(holder, vlan) };
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
    const vlan = this.nextFree();
    if (vlan !== undefined) this.claim(owner, vlan);
    return vlan;
  }

  /**
   * The next VLAN nobody here holds and `takenElsewhere` does not rule out, without taking it
   * (the caller claims it once the cluster agrees); undefined when none is left.
   */
  nextFree(takenElsewhere: (vlan: number) => boolean = () => false): number | undefined {
    const size = this.range.max - this.range.min + 1;
    for (let i = 0; i < size; i++) {
      const vlan = this.range.min + ((this.cursor - this.range.min + i) % size);
      // A VLAN some spec names is skipped too: it is that VM's, even while it waits for it.
      if (this.byVlan.has(vlan) || this.draining.has(vlan) || this.declarers.has(vlan) || takenElsewhere(vlan)) continue;
      this.cursor = vlan + 1 > this.range.max ? this.range.min : vlan + 1;
      return vlan;
    }
    return undefined;
  }

  /** The owner is gone (its domain too): everything it held is free. Returns those VLANs. */
  release(owner: string): number[] {
    this.declare(owner, undefined);
    const freed = this.settle(owner);
    const vlan = this.byOwner.get(owner);
    if (vlan === undefined) return freed;
    this.byOwner.delete(owner);
    if (this.byVlan.get(vlan) === owner) {
      this.byVlan.delete(vlan);
      freed.push(vlan);
    }
    return freed;
  }

  get inUse(): number {
    return this.byVlan.size;
  }
}
