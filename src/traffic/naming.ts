// Who a station (by MAC) and a slice (by VLAN) on the switch are, from what the controller
// knows: the client index (MAC → WimaxClient), the declared clients (their VM), and the VLAN
// allocator (VLAN → VirtualMachine).
import { parseResourceKey } from '../api/meta.js';
import type { WimaxClient } from '../api/wimax-client.js';
import type { VlanAllocator } from '../allocators/vlan-allocator.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { ClientIndex } from '../reconcilers/wimax-client/client-index.js';
import type { Naming } from './accounting.js';

export function controllerNaming(store: DesiredStore, clients: ClientIndex, vlans: VlanAllocator): Naming {
  return {
    station(mac) {
      const claims = clients.claimsOf(mac);
      if (claims.length !== 1) return undefined; // none, or a conflict: not bound by us
      const { namespace, name } = parseResourceKey(claims[0]!);
      const vm = store.get<WimaxClient>(claims[0]!)?.spec.vmName;
      return { namespace, name, ...(vm ? { vm } : {}) };
    },
    slice(vlan) {
      const holder = vlans.holder(vlan);
      if (!holder) return undefined;
      const { namespace, name } = parseResourceKey(holder);
      return { namespace, vm: name };
    },
  };
}
