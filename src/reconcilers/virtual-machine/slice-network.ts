// A VM's slice on the switch: which VLAN it gets, and what its switch port should carry
// (access tag and the slice's rates).
import { shapingKbps, type Shaping } from '../../api/rate.js';
import type { VlanAllocator } from '../../allocators/vlan-allocator.js';
import type { SlicePath } from '../../ports/datapath.js';
import type { VlanClaims } from '../../ports/vlan-claims.js';

export type VlanChoice =
  | { vlan: number }
  | {
      reason: 'VLANConflict' | 'VLANRangeExhausted' | 'VLANReclaiming';
      message: string;
      /** A VM of this controller that holds the VLAN asked for without naming it: it must look again and move. */
      evict?: string;
    };

/** Fresh VLANs tried in one reconcile when other controllers claim each first (rare: the watched claims are skipped). */
const CLAIM_ATTEMPTS = 16;

const shortKey = (key: string) => key.split('/').slice(1).join('/');
const conflict = (vlan: number, holderKey: string): VlanChoice =>
  ({ reason: 'VLANConflict', message: `VLAN ${vlan} is held by ${shortKey(holderKey)}` });
const reclaiming = (vlan: number, holderKey: string): VlanChoice => ({
  reason: 'VLANReclaiming',
  message: `VLAN ${vlan} was handed out automatically to ${shortKey(holderKey)}, which moves to another VLAN; then this VM gets it`,
});

type Vm = { key: string; uid: string };

/**
 * The VM's VLAN: the one its spec names, else the one it already had (status, the domain's
 * metadata if status was lost, or a claim the cluster keeps for it), else the next free one. The
 * local allocator keeps this controller's VMs apart; the claims registry keeps them apart from
 * every other controller's, and is asked before a VLAN is taken. A VLAN a spec names wins over
 * one handed out automatically: its holder is asked to move (evict here, a request in the
 * registry elsewhere) and the VM waits; two specs naming one VLAN are a conflict, the first
 * holder keeps it. While it waits, the VM keeps what it holds (it may be running on it: handing
 * that out would put two slices on one VLAN), unless another VM's spec names that, in which case
 * it moves to a free one, so that swaps converge.
 */
export async function chooseVlan(
  vlans: VlanAllocator, claims: VlanClaims, vm: Vm, specVlan: number | undefined, kept: number | undefined,
): Promise<VlanChoice> {
  const { key, uid } = vm;
  if (specVlan === undefined) {
    vlans.declare(key, undefined);
    return automatic(vlans, claims, vm, kept);
  }
  let blocked: VlanChoice;
  const here = vlans.ask(key, specVlan);
  if (!here.free) {
    blocked = here.yields ? { ...reclaiming(specVlan, here.holder), evict: here.holder } : conflict(specVlan, here.holder);
  } else {
    const claimed = await claims.claim(specVlan, key, uid, true);
    if (claimed === 'granted') {
      vlans.claim(key, specVlan);
      return { vlan: specVlan };
    }
    if (claimed.explicit) blocked = conflict(specVlan, claimed.heldBy);
    else {
      await claims.request(specVlan, key);
      blocked = reclaiming(specVlan, claimed.heldBy);
    }
  }
  const held = vlans.get(key);
  if (held !== undefined) {
    // Held but no longer named by the spec: another VM that names it may have it.
    if (wantedFrom(vlans, claims, vm, held)) await automatic(vlans, claims, vm, undefined);
    else await claims.claim(held, key, uid, false);
  }
  return blocked;
}

/** Another VM names `vlan`, which this VM holds without naming it (here, or as the registry says). */
function wantedFrom(vlans: VlanAllocator, claims: VlanClaims, vm: Vm, vlan: number): boolean {
  if (vlans.wantedFrom(vm.key, vlan) !== undefined) return true;
  if (vlans.declares(vm.key, vlan)) return false;
  const c = claims.get ? claims.get(vlan) : claims.list().find((claim) => claim.vlan === vlan);
  return c !== undefined && c.holderUid === vm.uid && c.wantedBy !== undefined && c.wantedBy !== vm.key;
}

/** A VLAN handed out from the range: the one the VM has unless another VM names it, else the next free one. */
async function automatic(vlans: VlanAllocator, claims: VlanClaims, vm: Vm, kept: number | undefined): Promise<VlanChoice> {
  const { key, uid } = vm;
  const freeHere = (vlan: number) => (vlans.holder(vlan) ?? key) === key;
  const keepable = (vlan: number | undefined): vlan is number => vlan !== undefined && !wantedFrom(vlans, claims, vm, vlan);
  const inRange = (vlan: number | undefined): vlan is number =>
    keepable(vlan) && vlan >= vlans.range.min && vlan <= vlans.range.max && freeHere(vlan);
  const own = vlans.get(key);
  const current = (keepable(own) ? own : undefined)
    ?? (inRange(kept) ? kept : undefined)
    ?? (claims.heldBy ? claims.heldBy(uid) : claims.list()).find((c) => c.holderUid === uid && inRange(c.vlan))?.vlan;
  if (current !== undefined && (await claims.claim(current, key, uid)) === 'granted') {
    vlans.claim(key, current);
    return { vlan: current };
  }
  // Someone else's elsewhere: skip what is known to be claimed; the registry decides the rest.
  const takenElsewhere = claimedByOthers(claims, uid);
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    const vlan = vlans.nextFree(takenElsewhere.has);
    if (vlan === undefined) break;
    if ((await claims.claim(vlan, key, uid)) === 'granted') {
      vlans.claim(key, vlan);
      return { vlan };
    }
    takenElsewhere.add(vlan);
  }
  if (vlans.nextFree(takenElsewhere.has) !== undefined) {
    throw new Error(`no VLAN could be claimed in ${CLAIM_ATTEMPTS} tries: other controllers claimed each first`);
  }
  // Everything is claimed somewhere: the registry hands over a claim whose VM is gone (a few a
  // reconcile, in turn, so a range full of live claims costs little).
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    const vlan = vlans.nextFree();
    if (vlan === undefined) break;
    if ((await claims.claim(vlan, key, uid)) === 'granted') {
      vlans.claim(key, vlan);
      return { vlan };
    }
  }
  return { reason: 'VLANRangeExhausted', message: `every VLAN in ${vlans.range.min}-${vlans.range.max} is taken; the VM waits for one to be freed` };
}

/**
 * VLANs claimed by other VMs, plus those added as refused: asked of the registry one VLAN at a
 * time where it can (a new VM must not copy every claim: that made a converge quadratic).
 */
function claimedByOthers(claims: VlanClaims, uid: string): { has: (vlan: number) => boolean; add: (vlan: number) => void } {
  const refused = new Set<number>();
  const get = claims.get?.bind(claims);
  const known = get ? undefined : new Set(claims.list().filter((c) => c.holderUid !== uid).map((c) => c.vlan));
  return {
    has: (vlan) => refused.has(vlan) || (known ? known.has(vlan) : (get!(vlan)?.holderUid ?? uid) !== uid),
    add: (vlan) => void refused.add(vlan),
  };
}

/** The slice's rates on the switch; undefined when it has none (or shaping is off). */
export function desiredSlicePath(vlan: number, vmPort: string, shaping: Shaping | undefined, shapingEnabled: boolean): SlicePath | undefined {
  const rates = shapingEnabled ? shapingKbps(shaping) : {};
  if (rates.downlinkKbps === undefined && rates.uplinkKbps === undefined) return undefined;
  return { vlan, vmPort, ...rates };
}

export function sameSlicePath(a: SlicePath | undefined, b: SlicePath | undefined): boolean {
  if (!a || !b) return a === b;
  return a.vlan === b.vlan && a.vmPort === b.vmPort && a.uplinkKbps === b.uplinkKbps && a.downlinkKbps === b.downlinkKbps;
}
