// A VM's IPv4 address, held through the claims registry: chooses (ip-choice.ts), claims, and gives
// back what the VM no longer holds. The registry decides between controllers; a claim refused
// because another VM took the address meanwhile makes the choice again without it.
import { parseResourceKey, type ResourceKey } from '../api/meta.js';
import type { VirtualMachine } from '../api/virtual-machine.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { IpClaims } from '../ports/ip-claims.js';
import { declaredPools } from './guest-address.js';
import { chooseIp, type IpProblemReason } from './ip-choice.js';

/** Choices made again after a refused claim before waiting for the next reconcile. */
const ATTEMPTS = 4;

export type IpAllocation =
  /** No address is the VM's business (no pool named, a fixed address outside every pool). */
  | { kind: 'none' }
  | { kind: 'held'; ip: string; pool?: string; hostname?: string }
  /** No address now; `kept` is the one the VM still holds meanwhile, if any. */
  | { kind: 'problem'; reason: IpProblemReason; message: string; pending: boolean; kept?: string };

export interface IpAllocatorDeps {
  store: DesiredStore;
  ipClaims: IpClaims;
}

export class IpAllocator {
  constructor(private readonly deps: IpAllocatorDeps) {}

  /** The address `vm` holds after this call; `previous` is what status or the domain's metadata says it had. */
  async allocate(key: ResourceKey, vm: VirtualMachine, mac: string, previous: string | undefined): Promise<IpAllocation> {
    const { ipClaims } = this.deps;
    // Most VMs name no pool and no address and held none: nothing to look at (no scan of the store or the claims).
    if (vm.spec.network?.ipPool === undefined && vm.spec.network?.ip === undefined && previous === undefined) return { kind: 'none' };
    const { namespace } = parseResourceKey(key);
    const uid = vm.metadata.uid;
    const pools = declaredPools(this.deps.store, namespace);
    const refused = new Map<string, string>();
    const holderOf = (ip: string) => refused.get(ip) ?? ipClaims.get(ip)?.holderKey;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const choice = chooseIp({ holder: key, mac, spec: vm.spec.network ?? {}, pools, ...(previous ? { previous } : {}), holderOf });
      if (choice.kind === 'none') {
        await this.releaseAll(uid, key);
        return { kind: 'none' };
      }
      if (choice.kind === 'problem') {
        const kept = this.heldBy(uid, key);
        return { kind: 'problem', reason: choice.reason, message: choice.message, pending: choice.pending, ...(kept ? { kept } : {}) };
      }
      const result = await ipClaims.claim(choice.ip, key, uid, choice.pool !== undefined ? `${namespace}/${choice.pool}` : undefined);
      if (result !== 'granted') {
        refused.set(choice.ip, result.heldBy);
        continue;
      }
      await this.releaseAll(uid, key, choice.ip);
      return { kind: 'held', ip: choice.ip, ...(choice.pool !== undefined ? { pool: choice.pool } : {}), ...(choice.hostname ? { hostname: choice.hostname } : {}) };
    }
    const kept = this.heldBy(uid, key);
    return { kind: 'problem', reason: 'IPConflict', message: `the addresses chosen were taken by other VMs ${ATTEMPTS} times in a row; trying again`, pending: true, ...(kept ? { kept } : {}) };
  }

  /**
   * Gives back every address the VM holds, but `keep`: by uid, and by key those of an earlier VM
   * of its name (gone: two cannot share a name) or rebuilt under the uid it had before a lost state directory.
   */
  async releaseAll(uid: string, key?: ResourceKey, keep?: string): Promise<string[]> {
    const released: string[] = [];
    for (const claim of this.deps.ipClaims.list()) {
      if ((claim.holderUid !== uid && claim.holderKey !== key) || claim.ip === keep) continue;
      await this.deps.ipClaims.release(claim.ip, claim.holderUid);
      released.push(claim.ip);
    }
    return released;
  }

  private heldBy(uid: string, key: ResourceKey): string | undefined {
    return this.deps.ipClaims.list().find((c) => c.holderUid === uid || c.holderKey === key)?.ip;
  }
}
