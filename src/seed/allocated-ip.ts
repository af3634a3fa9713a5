// For the seed's address source (steps/seed.ts's seedAddress): the pools area's guestAddressFor
// reads status.allocations.ip, but a VM from the desired store carries no status, or a stale
// one; the address the ip step holds in this reconcile is the one to configure. Pure.
import type { VirtualMachine, VirtualMachineStatus } from '../api/virtual-machine.js';

/** `vm` with status.allocations.ip set to `ip` (unchanged when `ip` is undefined). */
export function withAllocatedIp(vm: VirtualMachine, ip: string | undefined): VirtualMachine {
  if (ip === undefined) return vm;
  const status = vm.status ?? ({ allocations: {} } as unknown as VirtualMachineStatus);
  return { ...vm, status: { ...status, allocations: { ...status.allocations, ip } } };
}
