// The rule for an adopted domain (claimed by `wimaxvm adopt`): while its declaration's
// definition-shaping fields are what was adopted (the fingerprint in its claim), the definition is
// the domain's own. The controller then manages its power (the runStrategy, restart requests) and
// its claim, and nothing else: it never redefines it, never restarts it because its XML is not what
// wimaxvm would write, never says RestartRequired about it. Once those fields change, the usual
// rules apply: wimaxvm's definition replaces it (a restart where the runStrategy allows one, else
// RestartRequired), and the claim's adopted mark goes with the redefine. Pure.
import type { VirtualMachineSpec } from '../api/virtual-machine.js';
import type { OwnerMetadata } from '../reconcilers/virtual-machine/domain-xml.js';
import { planVirtualMachine, type ObservedDomain, type Plan, type PlanInput } from '../reconcilers/virtual-machine/plan.js';
import { adoptionFingerprint } from './fingerprint.js';

/** Whether the domain keeps its own definition: adopted, and the spec still the adopted one. */
export function keepsOwnDefinition(owner: OwnerMetadata | undefined, spec: VirtualMachineSpec): boolean {
  return owner?.adopted === true && owner.specHash === adoptionFingerprint(spec);
}

/** What the controller wants its claim to remember (as for any VM's metadata). */
export interface ClaimWanted {
  uid: string;
  generation: number;
  controller: string;
  /** The guest ran (or its first start is about to be made). */
  startedOnce: boolean;
  restartedAt?: string;
  vlan?: number;
}

/**
 * The claim the domain must carry now, or undefined when it carries it already (nothing is
 * written: an adopted domain in line costs no libvirt change). Only what the controller must be
 * able to read back after losing its state makes a write: the first start, the restart request
 * handled, the VLAN; the resource's uid, generation and the controller's identity go along then.
 */
export function claimUpdate(current: OwnerMetadata, want: ClaimWanted): OwnerMetadata | undefined {
  const stale = (want.startedOnce && !current.startedOnce)
    || (want.restartedAt !== undefined && want.restartedAt !== current.restartedAt)
    || (want.vlan !== undefined && want.vlan !== current.vlan)
    || (current.controller !== undefined && current.controller !== want.controller);
  if (!stale) return undefined;
  return {
    ...current, uid: want.uid, generation: want.generation, controller: want.controller,
    ...(current.startedOnce || want.startedOnce ? { startedOnce: true } : {}),
    ...(want.restartedAt ?? current.restartedAt ? { restartedAt: want.restartedAt ?? current.restartedAt } : {}),
    ...(want.vlan ?? current.vlan) !== undefined ? { vlan: want.vlan ?? current.vlan } : {},
  };
}

/**
 * The power plan of an adopted domain that keeps its own definition: the usual plan with the
 * domain's own definition as the desired one, so nothing differs and nothing is redefined or
 * restarted to apply a change; power (start, stop, restart requests, crashes) as for any VM.
 * A first start to be recorded (recordsStart) is the caller's to write into the claim.
 */
export function planAdoptedDomain(input: PlanInput & { observed: ObservedDomain }): Plan {
  const { observed } = input;
  const owner = observed.owner!;
  // Its live definition is not compared with anything: what it runs is its own.
  const { live: _live, ...own } = observed;
  const plan = planVirtualMachine({
    ...input,
    observed: own,
    desired: {
      facts: observed.persistent, specHash: owner.specHash, generation: owner.generation,
      ...(owner.controller !== undefined ? { controller: owner.controller } : {}),
      ...(owner.restartedAt !== undefined ? { restartedAt: owner.restartedAt } : {}),
      ...(owner.vlan !== undefined ? { vlan: owner.vlan } : {}),
    },
  });
  return { ...plan, actions: plan.actions.filter((a) => a.type !== 'define'), restartRequired: [] };
}
