// After power: what changed in the spec of a running guest and can be changed without a restart
// (balloon, vCPUs, disks after the boot disk, extra NICs) is applied to it, planned again from
// the domain as it is now. The LiveUpdated condition says what was applied (or what libvirt or
// the guest refused); what waits for a restart is the power step's RestartRequired.
import { factsOf } from '../domain-xml.js';
import { applyLiveOperations } from '../live-apply.js';
import { describeOperations, fieldOf, planLiveChanges } from '../live-changes.js';
import type { StepDeps } from './deps.js';
import type { VmContext, VmStep } from './step.js';

/** How soon to look again while a pulled device is still on its way out of the guest. */
const DEVICE_LEAVING_RECHECK_MS = 1_000;
/** How soon to try again what libvirt or the guest refused (a retry, not a failure of the reconcile). */
const REFUSED_RETRY_MS = 30_000;

export const LIVE_CONDITION = 'LiveUpdated';

export const liveStep: VmStep = {
  name: 'live',
  conditions: [LIVE_CONDITION],
  run: applyLive,
};

async function applyLive(ctx: VmContext, deps: StepDeps): Promise<void> {
  const running = ctx.domain?.state === 'running' && ctx.domain.snapshot.liveXml !== undefined;
  // Off, stopping (a restart takes everything) or after a failed action: nothing to do live.
  if (!running || ctx.failure || deps.memory.stopping.has(ctx.key) || !ctx.definition) return;
  // Nothing the running guest takes live has changed: no need to parse its live XML to know it.
  if (!ctx.appliedLive.length) {
    keepPrevious(ctx);
    return;
  }
  const plan = planLiveChanges({ desired: factsOf(ctx.definition), live: ctx.domain!.live! });
  const operations = plan.operations.filter((op) => ctx.appliedLive.includes(fieldOf(op)));
  if (!operations.length) {
    keepPrevious(ctx);
    return;
  }
  const { domainName, key, diskImages } = ctx;
  const result = await applyLiveOperations({ hypervisor: deps.hypervisor, prepareDisk: (i) => deps.disks.ensureOverlay(domainName, i, diskImages[i]!) }, domainName, operations);
  const generation = ctx.vm.metadata.generation;
  if (result.applied.length) {
    const what = describeOperations(result.applied);
    deps.events.record(key, 'Normal', 'LiveUpdated', `applied to the running guest ${domainName}: ${what}`);
    deps.logger.info(`live-updated ${domainName}: ${what}`, { key });
  }
  if (result.failed.length) {
    const why = result.failed.map((f) => `${describeOperations([f.operation])}: ${f.message}`).join('; ');
    deps.events.record(key, 'Warning', 'LiveUpdateFailed', `not applied to the running guest ${domainName}: ${why}`);
    ctx.setCondition({ type: LIVE_CONDITION, status: 'False', reason: 'Refused', message: `not applied to the running guest (retried): ${why}` });
    ctx.requeueAfter(REFUSED_RETRY_MS); // not sooner, even with a replacement waiting: a refused detach is not retried at once
    return;
  }
  if (plan.waiting) ctx.requeueAfter(DEVICE_LEAVING_RECHECK_MS);
  ctx.setCondition({ type: LIVE_CONDITION, status: 'True', reason: 'Applied', message: `applied to the running guest without a restart (generation ${generation}): ${describeOperations(result.applied)}` });
}

/** Nothing to apply now: what was applied to this running guest stays said. */
function keepPrevious(ctx: VmContext): void {
  const previous = ctx.previous?.conditions.find((c) => c.type === LIVE_CONDITION && c.status === 'True');
  if (previous) ctx.setCondition({ type: previous.type, status: previous.status, reason: previous.reason, message: previous.message });
}
