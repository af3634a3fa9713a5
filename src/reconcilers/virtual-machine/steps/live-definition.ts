// Before power: the maxima and extra NICs the spec declares go into the definition (folded into
// the specHash only when declared, so VMs without them keep theirs), and the fields a running
// guest takes live are named in ctx.appliedLive, so that the power step neither restarts the
// guest for them nor says RestartRequired. The live step (after power) applies them.
import { liveShapeOf } from '../../../api/live-spec.js';
import { TerminalError } from '../../../core/result.js';
import { extendSpecHash } from '../desired-definition.js';
import { diffFacts, factsOf } from '../domain-xml.js';
import { planLiveChanges } from '../live-changes.js';
import type { VmStep } from './step.js';

export const liveDefinitionStep: VmStep = {
  name: 'live-definition',
  run(ctx) {
    const definition = ctx.definition!;
    const result = liveShapeOf(ctx.vm.spec, ctx.vm.metadata.uid);
    if ('errors' in result) throw new TerminalError('InvalidSpec', result.errors.map((e) => e.message).join('; '));
    const { maxMemoryKiB, maxVcpus, extraNics } = result.shape;
    const nics = extraNics.map(({ mac, network }) => ({ mac, network }));
    if (maxMemoryKiB !== undefined) definition.maxMemoryKiB = maxMemoryKiB;
    if (maxVcpus !== undefined) definition.maxVcpus = maxVcpus;
    if (nics.length) definition.extraNics = nics;
    if (maxMemoryKiB !== undefined || maxVcpus !== undefined || nics.length) extendSpecHash(definition, { maxMemoryKiB, maxVcpus, nics });

    const live = ctx.observed?.state === 'running' ? ctx.observed.live : undefined;
    if (!live) return;
    const desired = factsOf(definition);
    const plan = planLiveChanges({ desired, live });
    for (const field of diffFacts(live, desired)) {
      if (field !== 'vlan' && !plan.restartRequired.includes(field) && !ctx.appliedLive.includes(field)) ctx.appliedLive.push(field);
    }
  },
};
