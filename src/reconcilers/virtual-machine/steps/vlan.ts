// Allocations, second part: the VM's VLAN (its spec's, or one from the range), claimed
// testbed-wide. Without one, a VM on the switch waits (Pending): an OVS port without a tag would
// be a trunk that sees every slice. The VLANAssigned condition is status.ts's (vlanProblem).
import { chooseVlan } from '../slice-network.js';
import type { VmStep } from './step.js';

/** How soon a VM waiting for a VLAN looks again. */
export const VLAN_WAIT_MS = 30_000;

export const vlanStep: VmStep = {
  name: 'vlan',
  async run(ctx, deps) {
    const { key, vm, previous, observed } = ctx;
    const choice = await chooseVlan(deps.vlans, deps.vlanClaims, { key, uid: vm.metadata.uid }, vm.spec.network?.vlan, previous?.allocations.vlan ?? observed?.owner?.vlan);
    // On a conflict the VM keeps the VLAN it holds, if any, until the one it asks for is free.
    const vlan = 'vlan' in choice ? choice.vlan : deps.vlans.get(key);
    if (vlan !== undefined) ctx.vlan = vlan;
    if ('evict' in choice && choice.evict) deps.requeue?.(choice.evict);
    if (!('reason' in choice)) return;
    ctx.status.vlanProblem = { reason: choice.reason, message: choice.message };
    if (deps.onSwitch && vlan === undefined) {
      ctx.status.pending = true;
      return { stop: true, requeueAfterMs: VLAN_WAIT_MS };
    }
  },
};
