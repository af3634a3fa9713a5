// Defines the domain and powers it as plan.ts decides from the power wish (the runStrategy, a
// restart request, a stop in progress), and counts starts and restarts. The RestartRequired
// condition is status.ts's (restartRequired).
import { RESTARTED_AT_ANNOTATION } from '../../../api/virtual-machine.js';
import { errorMessage } from '../../../core/logger.js';
import { HypervisorUnavailableError, type DomainState } from '../../../ports/hypervisor.js';
import { act } from '../domain-actions.js';
import { buildDomainXml, factsOf, type DomainDefinition } from '../domain-xml.js';
import { observe, type Observed } from '../observe.js';
import { isActive, planVirtualMachine, remembersStart, type PlanInput } from '../plan.js';
import { planAndClaimAdopted } from '../../../adoption/adopted-power.js';
import type { StepDeps } from './deps.js';
import type { VmContext, VmStep } from './step.js';
import { rememberStopping, stopWait } from './stopping.js';

export const powerStep: VmStep = {
  name: 'power',
  run: power,
  afterStatus(ctx, deps) {
    const required = ctx.status.restartRequired ?? [];
    if (required.length && ctx.previous?.conditions.every((c) => c.type !== 'RestartRequired')) {
      deps.events.record(ctx.key, 'Warning', 'RestartRequired', `${required.join(', ')} changed while running; restart the guest to apply`);
    }
  },
};

async function power(ctx: VmContext, deps: StepDeps): Promise<void> {
  const { key, vm, domainName, observed, previous } = ctx;
  const definition = ctx.definition!;
  const { stopping, startFailures } = deps.memory;
  const restartRequest = vm.metadata.annotations?.[RESTARTED_AT_ANNOTATION];
  // The request last handled: the domain's metadata remembers it too, so a lost state store
  // does not restart the guest again for a request already served.
  const handled = previous?.restartedAt ?? observed?.owner?.restartedAt;
  const restartRequested = restartRequest !== undefined && restartRequest !== handled && !stopping.has(key);
  const restartedAt = restartRequested ? restartRequest : handled;
  if (restartedAt !== undefined) definition.owner.restartedAt = restartedAt;
  // Whether the guest ever ran: the domain's metadata remembers it even if status was lost.
  const ranBefore = (previous?.startedOnce ?? false) || observed?.owner?.startedOnce === true || (observed !== undefined && isActive(observed.state));
  definition.owner.startedOnce = ranBefore;
  const { runStrategy, powerState } = ctx.power;
  if (observed) observed.saved = await hasSavedState(deps, ctx, observed);
  const input: PlanInput = {
    restartRequested,
    runStrategy,
    ...(powerState ? { powerState } : {}),
    appliedLive: ctx.appliedLive,
    desired: {
      facts: factsOf(definition), specHash: definition.owner.specHash, generation: vm.metadata.generation,
      // Only the strategies that read it redefine a domain just to write it down.
      controller: definition.owner.controller, startedOnce: ranBefore && remembersStart(runStrategy),
      ...(restartedAt !== undefined ? { restartedAt } : {}),
      ...(definition.owner.vlan !== undefined ? { vlan: definition.owner.vlan } : {}),
    },
    ...(observed ? { observed } : {}),
    ...(stopping.has(key) ? { stopping: stopping.get(key)! } : {}),
    startedOnce: ranBefore,
    nowMs: deps.now(),
    shutdownTimeoutMs: deps.shutdownTimeoutMs,
  };
  // An adopted domain on its own definition: power only, its claim kept by the metadata call.
  const plan = ctx.ownDefinition ? await planAndClaimAdopted(ctx, deps, input) : planVirtualMachine(input);
  if (plan.recordsStart) definition.owner.startedOnce = true;

  let startedOnce = ranBefore;
  let restarts = previous?.restarts ?? 0;
  // A restart is a start after the guest was last seen up (it stopped or crashed, or was taken
  // down to apply a change); starting a stopped guest the user asked for (Halted → Always) is not.
  const wasUp = previous?.domain !== undefined && isActive(previous.domain.state as DomainState);
  try {
    for (const action of plan.actions) {
      await act(deps, key, action, domainName, definition, ctx.ownDefinition ? [] : ctx.diskImages, observed);
      if (action.type === 'start') {
        if (startedOnce && wasUp) restarts++;
        startedOnce = true;
        startFailures.delete(key);
      }
    }
  } catch (err) {
    if (err instanceof HypervisorUnavailableError) throw err; // status stays as it was
    ctx.failure = err;
    if (plan.actions.some((a) => a.type === 'start')) startFailures.set(key, (startFailures.get(key) ?? 0) + 1);
    deps.events.record(key, 'Warning', 'ReconcileError', errorMessage(err));
    if (plan.recordsStart && !startedOnce) await unrecordStart(deps, domainName, definition);
  }
  rememberStopping(deps, key, plan);

  // The definition is the one just defined (or untouched): state and live XML are what is new.
  const after = plan.actions.length ? observe(await deps.hypervisor.getDomainView(domainName)) : observed;
  if (after && after !== observed) after.saved = await hasSavedState(deps, ctx, after);
  // A halt the guest carried out at once (libvirt's test driver does; so may a guest quick to act
  // on ACPI): the stop is over now, not at the next look half a second later.
  const haltDone = plan.stopping?.intent === 'halt' && after?.state === 'shutoff' && !ctx.failure;
  if (haltDone) deps.memory.stopping.delete(key);
  const waiting = haltDone ? { ...plan, stopping: undefined, requeueAfterMs: undefined } : plan;
  ctx.domain = after;
  deps.memory.activity.note(domainName, after);
  // A restart request counts as handled once the guest is on its way down (or was not running).
  if (restartRequested && !ctx.failure) {
    ctx.status.restartedAt = restartRequest;
    if (plan.stopping) deps.events.record(key, 'Normal', 'RestartRequested', `restarting domain ${domainName} as asked at ${restartRequest}`);
  }
  ctx.status.startedOnce = startedOnce || after?.state === 'running';
  ctx.status.restarts = restarts;
  ctx.status.restartRequired = plan.restartRequired;
  const wait = stopWait(deps, key, domainName, waiting, after);
  if (wait) ctx.status.stopWait = wait;
  if (waiting.requeueAfterMs !== undefined) ctx.requeueAfter(waiting.requeueAfterMs);
}

/**
 * The first start was written into the definition and then failed: take it back, or a Once or
 * RerunOnFailure guest that never ran would never be started. Best effort: if this fails too,
 * the next reconcile's define (the metadata differs from what it wants) puts it right.
 */
async function unrecordStart(deps: StepDeps, domainName: string, definition: DomainDefinition): Promise<void> {
  try {
    await deps.hypervisor.define(buildDomainXml({ ...definition, owner: { ...definition.owner, startedOnce: false } }));
  } catch (err) {
    deps.logger.warn(`could not take back the recorded first start of ${domainName}`, { error: errorMessage(err) });
  }
}

/**
 * Whether a shut-off domain has a managed-save image. Asked of libvirt only where it can be (the
 * reason says saved, or the VM is declared or shown Saved): after a libvirtd restart the reason
 * is gone but the image is not.
 */
async function hasSavedState(deps: StepDeps, ctx: VmContext, domain: Observed): Promise<boolean> {
  if (domain.state !== 'shutoff') return false;
  const hinted = domain.reason === 'saved' || ctx.power.powerState === 'Saved' || ctx.previous?.printableStatus === 'Saved';
  return hinted && (await deps.hypervisor.hasManagedSave(ctx.domainName));
}
