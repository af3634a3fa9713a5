// The power step's plan for a domain that keeps its own definition (adopted-definition.ts): its
// claim is brought up to date through libvirt's metadata call (never a define) before the
// actions, and overlays are never made for it (its disks are its own files).
import { errorMessage } from '../core/logger.js';
import { METADATA_KEY, METADATA_NS, ownerElementXml } from '../reconcilers/virtual-machine/domain-xml.js';
import { isActive, remembersStart, type Plan, type PlanInput } from '../reconcilers/virtual-machine/plan.js';
import type { StepDeps } from '../reconcilers/virtual-machine/steps/deps.js';
import type { VmContext } from '../reconcilers/virtual-machine/steps/step.js';
import { claimUpdate, planAdoptedDomain } from './adopted-definition.js';

export async function planAndClaimAdopted(ctx: VmContext, deps: StepDeps, input: PlanInput): Promise<Plan> {
  const observed = ctx.observed!;
  const plan = planAdoptedDomain({ ...input, observed });
  const runStrategy = input.runStrategy ?? ctx.power.runStrategy;
  const update = claimUpdate(observed.owner!, {
    uid: ctx.vm.metadata.uid, generation: ctx.vm.metadata.generation, controller: deps.identity.self,
    startedOnce: plan.recordsStart === true || (input.startedOnce && remembersStart(runStrategy)),
    ...(input.desired?.restartedAt !== undefined ? { restartedAt: input.desired.restartedAt } : {}),
    // Off the switch a VLAN is only a slice's number, handed out again after a state loss: the
    // claim remembers one it was adopted with, or one on the switch (where the port carries it).
    ...(ctx.definition?.owner.vlan !== undefined && (deps.onSwitch || observed.owner!.vlan !== undefined) ? { vlan: ctx.definition.owner.vlan } : {}),
  });
  if (update) {
    try {
      await deps.hypervisor.setMetadata(ctx.domainName, METADATA_NS, METADATA_KEY, ownerElementXml(update), { config: true, ...(isActive(observed.state) ? { live: true } : {}) });
      deps.logger.info(`claim of adopted ${ctx.domainName} updated`, { key: ctx.key });
    } catch (err) {
      // Acting on power without the claim remembering it (a first start, a restart request) could repeat it after a state loss.
      throw new Error(`could not update the claim of adopted domain ${ctx.domainName}: ${errorMessage(err)}`);
    }
  }
  // The first start is in the claim already: nothing for the power step to take back by a define.
  return { ...plan, recordsStart: false };
}
