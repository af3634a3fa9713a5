// A domain adopted by `wimaxvm adopt` keeps its own definition while its declaration is the
// adopted one (src/adoption/adopted-definition.ts): this step says so (ctx.ownDefinition, read by
// the power step, and the Adopted condition). A declaration changed since takes the usual path.
import { keepsOwnDefinition } from '../../../adoption/adopted-definition.js';
import type { VmStep } from './step.js';

export const adoptedStep: VmStep = {
  name: 'adopted',
  conditions: ['Adopted'],
  run(ctx) {
    const owner = ctx.observed?.owner;
    if (!owner?.adopted) return;
    if (keepsOwnDefinition(owner, ctx.vm.spec)) {
      ctx.ownDefinition = true;
      ctx.setCondition({ type: 'Adopted', status: 'True', reason: 'OwnDefinition', message: `domain ${ctx.domainName} keeps its own definition: wimaxvm manages its power only; a change of memory, vcpus, disks or MAC replaces the definition with wimaxvm's` });
    } else {
      ctx.setCondition({ type: 'Adopted', status: 'False', reason: 'DefinitionReplaced', message: `the declaration of ${ctx.domainName} changed since it was adopted: wimaxvm's definition replaces the domain's own` });
    }
  },
};
