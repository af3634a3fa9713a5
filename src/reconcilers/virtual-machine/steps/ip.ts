// Allocations, third part: the VM's IPv4 address, from the IPPool its spec names (or its fixed
// spec.network.ip, claimed where a pool could hand it out), held through the claims registry
// (src/pools/ip-allocation.ts). Without one, a VM naming a pool waits (Pending) and is queued
// again when an address is returned; a clash is IPAssigned=False, never a silent double.
import { IpAllocator } from '../../../pools/ip-allocation.js';
import type { VmContext, VmStep } from './step.js';

declare module './deps.js' {
  interface AreaDeps {
    /** Where VMs' addresses are claimed (absent: no pools, as before pools existed). */
    ipAllocator?: IpAllocator;
  }
}

/** The host name a pool's entry gives the VM's address (Nimbus's first column), for its DHCP lease. */
export const poolHostnames = new WeakMap<VmContext, string>();

/** How soon a VM waiting for an address looks again (a returned address queues it at once too). */
export const IP_WAIT_MS = 30_000;

export const ipStep: VmStep = {
  name: 'ip',
  conditions: ['IPAssigned'],
  async run(ctx, deps) {
    if (!deps.ipAllocator) return;
    const { key, vm, previous, observed } = ctx;
    const allocation = await deps.ipAllocator.allocate(key, vm, ctx.mac!, previous?.allocations.ip ?? observed?.owner?.ip);
    if (allocation.kind === 'none') return;
    if (allocation.kind === 'held') {
      ctx.ip = allocation.ip;
      if (allocation.hostname) poolHostnames.set(ctx, allocation.hostname);
      const from = allocation.pool !== undefined ? `IPPool ${allocation.pool}` : 'its spec';
      ctx.setCondition({ type: 'IPAssigned', status: 'True', reason: vm.spec.network?.ip ? 'Fixed' : 'Allocated', message: `${allocation.ip} from ${from}${allocation.hostname ? ` (hostname ${allocation.hostname})` : ''}` });
      return;
    }
    ctx.setCondition({ type: 'IPAssigned', status: 'False', reason: allocation.reason, message: allocation.message });
    // Still holding one (its pool went, or it asks for another that is taken): it keeps it meanwhile.
    if (allocation.kept !== undefined) {
      ctx.ip = allocation.kept;
      return;
    }
    ctx.status.pending = true;
    return allocation.pending ? { stop: true, requeueAfterMs: IP_WAIT_MS } : { stop: true };
  },
};
