// A lease that says Delete has expired: the guest is shut down (gracefully, then by force after
// --shutdown-timeout, as for any removal), its overlays and the domain go, with the deletion
// gate's lease permit only; the declaration, its MAC and VLAN stay, so a renewal brings it back.
import { errorMessage } from '../../../core/logger.js';
import { HypervisorUnavailableError } from '../../../ports/hypervisor.js';
import type { LeaseRecord } from '../../../leases/lease-clock.js';
import { act } from '../domain-actions.js';
import { observe } from '../observe.js';
import { planVirtualMachine } from '../plan.js';
import type { StepDeps } from './deps.js';
import type { StepOutcome, VmContext } from './step.js';
import { stopWait } from './stopping.js';

/** How soon a removal the gate withheld is looked at again. */
const WITHHELD_RECHECK_MS = 15_000;

export async function removeExpiredDomain(ctx: VmContext, deps: StepDeps, record: LeaseRecord): Promise<StepOutcome> {
  const { key, domainName, observed } = ctx;
  if (!observed) return { stop: true }; // removed already: nothing is defined again while expired
  if (!deps.gate) throw new Error('the lease step needs the deletion gate to remove an expired domain');
  const decision = deps.gate.decideLeaseExpired(key, domainName, record);
  if ('withheld' in decision) {
    deps.logger.warn(decision.withheld, { key });
    return { stop: true, requeueAfterMs: WITHHELD_RECHECK_MS };
  }
  const plan = planVirtualMachine({
    observed, startedOnce: false, nowMs: deps.now(), shutdownTimeoutMs: deps.shutdownTimeoutMs,
    ...(deps.memory.stopping.has(key) ? { stopping: deps.memory.stopping.get(key)! } : {}),
  });
  try {
    for (const action of plan.actions) {
      // Overlays before the domain, as for a deleted declaration: an interrupted removal leaves a
      // domain that the next reconcile removes, never overlays nothing names.
      if (action.type === 'undefine') await deps.disks.removeOverlays(domainName, decision.permit);
      await act(deps, key, action, domainName, undefined, [], observed, decision.permit);
    }
  } catch (err) {
    if (err instanceof HypervisorUnavailableError) throw err;
    ctx.failure = err;
    deps.events.record(key, 'Warning', 'ReconcileError', errorMessage(err));
  }
  // Remembered as a halt, not a deletion: the reconciler drops a deletion's stop for a declared
  // VM, and a renewal during the stop withdraws a halt as it should (the guest runs on).
  if (plan.stopping) deps.memory.stopping.set(key, { ...plan.stopping, intent: 'halt' });
  else deps.memory.stopping.delete(key);
  // The definition is the one just defined (or untouched): state and live XML are what is new.
  const after = plan.actions.length ? observe(await deps.hypervisor.getDomainView(domainName)) : observed;
  ctx.domain = after;
  deps.memory.activity.note(domainName, after);
  const wait = stopWait(deps, key, domainName, plan, after);
  if (wait) ctx.status.stopWait = wait;
  if (!after) {
    if (deps.onSwitch && ctx.vlan !== undefined) await deps.ports.dropSlicePath(domainName, ctx.vlan);
    deps.events.record(key, 'Normal', 'Deleted', `domain ${domainName} undefined and its overlays removed: its lease expired (the declaration stays)`);
    deps.logger.info('removed for its expired lease', { key, domain: domainName });
  }
  return { stop: true, ...(plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : {}) };
}
