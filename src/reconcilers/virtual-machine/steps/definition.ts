// The definition the domain must have, built from the spec and the allocations. The steps after
// this one and before power may add to it (devices, memory maxima): see extendSpecHash.
import { buildDefinition } from '../desired-definition.js';
import type { VmStep } from './step.js';

export const definitionStep: VmStep = {
  name: 'definition',
  run(ctx, deps) {
    ctx.definition = buildDefinition(deps, {
      vm: ctx.vm, domainName: ctx.domainName, mac: ctx.mac!, diskImages: ctx.diskImages,
      ...(ctx.vlan !== undefined ? { vlan: ctx.vlan } : {}),
      ...(ctx.observed ? { observed: ctx.observed } : {}),
      ...(ctx.previous ? { previous: ctx.previous } : {}),
    });
  },
};
