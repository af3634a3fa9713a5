// Allocations, first part: the VM's MAC (the spec's, the one it has, or a new one).
import { claimMac } from '../desired-definition.js';
import type { VmStep } from './step.js';

export const macStep: VmStep = {
  name: 'mac',
  run(ctx, deps) {
    ctx.mac = claimMac(deps.macs, ctx.key, ctx.vm, ctx.observed, ctx.previous);
  },
};
