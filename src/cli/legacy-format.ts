// The old OMF wimaxvm service's text formats, reproduced byte for byte where its samples show
// them (../shared/seeds/000_81e3503b222c4a32.txt).
import type { VirtualMachine } from '../api/virtual-machine.js';

/** One `vmlist`/`initvms` line: `vm30 VLANid  7         mac address='52:52:52:52:52:52'/` */
export function vmlistLine(vm: VirtualMachine): string {
  const vlan = vm.status?.allocations?.vlan;
  const mac = vm.status?.allocations?.mac ?? vm.spec.network?.mac ?? '';
  return `${vm.metadata.name} VLANid  ${String(vlan ?? '-').padEnd(10)}mac address='${mac}'/`;
}
