// Generated guest MACs: derived from the resource's uid (so the first choice is the same on every
// run), unique among all VMs, and rebuilt from status and domain metadata before reconciling.
import { createHash } from 'node:crypto';

/** QEMU/KVM's locally administered prefix, the one virsh and virt-install use. */
const PREFIX = '52:54:00';

export function canonicalMac(mac: string): string {
  return mac.toLowerCase();
}

export class MacAllocator {
  private readonly byOwner = new Map<string, string>();
  private readonly byMac = new Map<string, string>();

  /** Records a MAC already in use (from status or a domain), before any reconcile. */
  claim(owner: string, mac: string): void {
    const canonical = canonicalMac(mac);
    const holder = this.byMac.get(canonical);
    if (holder && holder !== owner) return;
    this.release(owner);
    this.byOwner.set(owner, canonical);
    this.byMac.set(canonical, owner);
  }

  get(owner: string): string | undefined {
    return this.byOwner.get(owner);
  }

  /** The owner holding `mac`, if any. */
  holder(mac: string): string | undefined {
    return this.byMac.get(canonicalMac(mac));
  }

  /** The owner's MAC, generating one the first time. */
  allocate(owner: string, seed: string): string {
    const existing = this.byOwner.get(owner);
    if (existing) return existing;
    for (let attempt = 0; ; attempt++) {
      const digest = createHash('sha256').update(`${seed}/${attempt}`).digest();
      const mac = `${PREFIX}:${[digest[0], digest[1], digest[2]].map((b) => b!.toString(16).padStart(2, '0')).join(':')}`;
      if (!this.byMac.has(mac)) {
        this.claim(owner, mac);
        return mac;
      }
    }
  }

  release(owner: string): void {
    const mac = this.byOwner.get(owner);
    if (mac === undefined) return;
    this.byOwner.delete(owner);
    if (this.byMac.get(mac) === owner) this.byMac.delete(mac);
  }

  get size(): number {
    return this.byOwner.size;
  }
}
