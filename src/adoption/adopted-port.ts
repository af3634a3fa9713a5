// The switch port of an adopted guest: libvirt named it (vnetN) or its author did, not wimaxvm
// (vmPortName); the running domain's live XML says which. Pure.
import type { DomainFacts, NicAttachment } from '../reconcilers/virtual-machine/domain-xml.js';

/**
 * The port of the guest's first NIC when that NIC is on the controller's Open vSwitch bridge;
 * undefined when it is elsewhere (another bridge, a libvirt network) or the guest is not running.
 * `lastKnown`: the port status last named, for a guest that stopped (its slice path goes then).
 */
export function adoptedPortName(live: DomainFacts | undefined, nic: NicAttachment, lastKnown?: string): string | undefined {
  if (nic.type !== 'bridge' || !nic.openvswitch) return undefined;
  if (!live) return lastKnown;
  const first = live.nics[0];
  return first?.type === 'bridge' && first.source === nic.source ? first.port : undefined;
}
