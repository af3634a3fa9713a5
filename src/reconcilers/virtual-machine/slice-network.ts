// A VM's slice on the switch: which VLAN it gets, and what its switch port should carry
// (access tag and the slice's rates).
import { shapingKbps, type Shaping } from '../../api/rate.js';
import type { VlanAllocator } from '../../allocators/vlan-allocator.js';
import type { PortSettings } from '../../ports/datapath.js';

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

/** What the VM's port should carry: its VLAN, and the slice rates when shaping is on. */
export function slicePortSettings(vlan: number, shaping: Shaping | undefined, shapingEnabled: boolean): PortSettings {
  const rates = shapingEnabled ? shapingKbps(shaping) : {};
  return {
    tag: vlan,
    ...(rates.downlinkKbps !== undefined ? { ingressKbps: rates.downlinkKbps } : {}),
    ...(rates.uplinkKbps !== undefined ? { egressKbps: rates.uplinkKbps } : {}),
  };
}

export function samePortSettings(a: PortSettings, b: PortSettings): boolean {
  return a.tag === b.tag && a.ingressKbps === b.ingressKbps && a.egressKbps === b.egressKbps;
}
