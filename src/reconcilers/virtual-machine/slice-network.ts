// A VM's slice on the switch: which VLAN it gets, and what its switch port should carry
// (access tag and the slice's rates).
import { shapingKbps, type Shaping } from '../../api/rate.js';
import type { VlanAllocator } from '../../allocators/vlan-allocator.js';
import type { SlicePath } from '../../ports/datapath.js';

export type VlanChoice = { vlan: number } | { reason: 'VLANConflict' | 'VLANRangeExhausted'; message: string };

/**
 * The VM's VLAN: the one its spec names, else the one it already had (status, or the domain's
 * metadata if status was lost), else the next free one.
 */
export function chooseVlan(vlans: VlanAllocator, key: string, specVlan: number | undefined, kept: number | undefined): VlanChoice {
  if (specVlan !== undefined) {
    const claim = vlans.claim(key, specVlan);
    if (claim.ok) return { vlan: specVlan };
    // Keep what the VM holds: it may be running on it, and handing it out would put two slices on one VLAN.
    return { reason: 'VLANConflict', message: `VLAN ${specVlan} is held by ${claim.holder.split('/').slice(1).join('/')}` };
  }
  if (vlans.get(key) === undefined && kept !== undefined && kept >= vlans.range.min && kept <= vlans.range.max) vlans.claim(key, kept);
  const vlan = vlans.allocate(key);
  if (vlan !== undefined) return { vlan };
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
