// A VM that is gone gives its address back: its claims (so the pool hands it out again) and its
// fixed DHCP lease in the libvirt network of the controller's NICs.
import type { NicAttachment } from '../reconcilers/virtual-machine/domain-xml.js';
import type { DhcpEntries } from './dhcp-entries.js';
import type { IpAllocator } from './ip-allocation.js';

export interface ReleaseDeps {
  ipAllocator?: IpAllocator;
  dhcpEntries?: DhcpEntries;
  nic: NicAttachment;
}

/** `key` also gives back claims of the VM's name under another uid: only where the domain was ours. */
export async function releaseAddress(deps: ReleaseDeps, key: string | undefined, uid: string | undefined, mac: string | undefined): Promise<void> {
  // The lease first: an address returned while its lease stays would go to a VM whose guest cannot get it.
  if (mac && deps.dhcpEntries && deps.nic.type === 'network') await deps.dhcpEntries.remove(deps.nic.source, mac);
  if (deps.ipAllocator && (uid || key)) await deps.ipAllocator.releaseAll(uid ?? '', key);
}
