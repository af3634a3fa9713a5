// IP claims held in the process: file mode's registry (one controller arbitrates for its
// directory), rebuilt before the first reconcile from status and domain metadata (wiring/acting.ts).
import type { ResourceKey } from '../api/meta.js';
import type { IpClaim, IpClaimResult, IpClaims } from '../ports/ip-claims.js';

export class InProcessIpClaims implements IpClaims {
  private readonly claims = new Map<string, IpClaim>();
  /** Addresses rebuilt at start from status or a domain: file mode's uids are new after a lost state directory, so their VM is known by key. */
  private readonly rebuilt = new Set<string>();
  private readonly listeners: ((claim: IpClaim, change: 'claimed' | 'released') => void)[] = [];

  async claim(ip: string, holderKey: ResourceKey, holderUid: string, pool?: string): Promise<IpClaimResult> {
    const held = this.claims.get(ip);
    const sameVm = held !== undefined && (held.holderUid === holderUid || (this.rebuilt.has(ip) && held.holderKey === holderKey));
    if (held && !sameVm) return { heldBy: held.holderKey };
    if (held && held.holderUid === holderUid && held.holderKey === holderKey && held.pool === pool) return 'granted';
    this.rebuilt.delete(ip);
    const claim: IpClaim = { ip, holderKey, holderUid, ...(pool !== undefined ? { pool } : {}) };
    this.claims.set(ip, claim);
    this.tell(claim, 'claimed');
    return 'granted';
  }

  /** Rebuilding at start: what a domain or stored status says a VM holds (the first to say it keeps it). */
  remember(claim: IpClaim): void {
    if (this.claims.has(claim.ip)) return;
    this.claims.set(claim.ip, { ...claim });
    this.rebuilt.add(claim.ip);
  }

  async release(ip: string, holderUid: string): Promise<void> {
    const held = this.claims.get(ip);
    if (held?.holderUid !== holderUid) return;
    this.claims.delete(ip);
    this.rebuilt.delete(ip);
    this.tell(held, 'released');
  }

  list(): IpClaim[] {
    return [...this.claims.values()].map((c) => ({ ...c }));
  }

  get(ip: string): IpClaim | undefined {
    const held = this.claims.get(ip);
    return held && { ...held };
  }

  onChange(listener: (claim: IpClaim, change: 'claimed' | 'released') => void): void {
    this.listeners.push(listener);
  }

  private tell(claim: IpClaim, change: 'claimed' | 'released'): void {
    for (const listener of this.listeners) listener({ ...claim }, change);
  }
}
