// A VM's slice on the switch: which VLAN it gets, and what its switch port should carry
// (access tag and the slice's rates).
import { shapingKbps, type Shaping } from '../../api/rate.js';
import type { VlanAllocator } from '../../allocators/vlan-allocator.js';
import type { SlicePath } from '../../ports/datapath.js';
import type { VlanClaims } from '../../ports/vlan-claims.js';

export type VlanChoice = { vlan: number } | { reason: 'VLANConflict' | 'VLANRangeExhausted'; message: string };

/** Fresh VLANs tried in one reconcile when other controllers claim each first (rare: the watched claims are skipped). */
const CLAIM_ATTEMPTS = 16;

const conflict = (vlan: number, holderKey: string): VlanChoice =>
  ({ reason: 'VLANConflict', message: `VLAN ${vlan} is held by ${holderKey.split('/').slice(1).join('/')}` });

/**
 * The VM's VLAN: the one its spec names, else the one it already had (status, the domain's
 * metadata if status was lost, or a claim the cluster keeps for it), else the next free one. The
 * local allocator keeps this controller's VMs apart; the claims registry keeps them apart from
 * every other controller's, and is asked before a VLAN is taken. On a conflict the VM keeps
 * what it holds: it may be running on it, and handing that out would put two slices on one VLAN.
 */
export async function chooseVlan(
  vlans: VlanAllocator, claims: VlanClaims, vm: { key: string; uid: string }, specVlan: number | undefined, kept: number | undefined,
): Promise<VlanChoice> {
  const { key, uid } = vm;
  const freeHere = (vlan: number) => (vlans.holder(vlan) ?? key) === key;
  if (specVlan !== undefined) {
    if (!freeHere(specVlan)) return conflict(specVlan, vlans.holder(specVlan)!);
    const claimed = await claims.claim(specVlan, key, uid);
    if (claimed !== 'granted') return conflict(specVlan, claimed.heldBy);
    vlans.claim(key, specVlan);
    return { vlan: specVlan };
  }
  const inRange = (vlan: number | undefined): vlan is number => vlan !== undefined && vlan >= vlans.range.min && vlan <= vlans.range.max && freeHere(vlan);
  const current = vlans.get(key)
    ?? (inRange(kept) ? kept : undefined)
    ?? claims.list().find((c) => c.holderUid === uid && inRange(c.vlan))?.vlan;
  if (current !== undefined && (await claims.claim(current, key, uid)) === 'granted') {
    vlans.claim(key, current);
    return { vlan: current };
  }
  // Someone else's elsewhere: skip what is known to be claimed; the registry decides the rest.
  const takenElsewhere = new Set(claims.list().filter((c) => c.holderUid !== uid).map((c) => c.vlan));
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    const vlan = vlans.nextFree((v) => takenElsewhere.has(v));
    if (vlan === undefined) break;
    if ((await claims.claim(vlan, key, uid)) === 'granted') {
      vlans.claim(key, vlan);
      return { vlan };
    }
    takenElsewhere.add(vlan);
  }
  if (vlans.nextFree((v) => takenElsewhere.has(v)) !== undefined) {
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
