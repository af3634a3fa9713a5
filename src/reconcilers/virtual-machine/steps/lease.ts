// The lease (src/leases/): remembers the lease in force (status, and the domain's metadata through
// the definition), sets the Lease condition, wakes the reconcile at the warning time and at
// expiry, and once expired overrides the power wish (Stop: Halted; Save: powerState Saved) or
// removes the domain with the deletion gate's lease permit (Delete), claiming Expired until the
// lease is renewed. Events follow the status write, so each is given once.
import type { DeletionGate } from '../../../core/deletion-gate.js';
import { decideLease, LEASE_CONDITION, type LeaseDecision } from '../../../leases/lease-decision.js';
import { rememberedLease, RENEWED_AT_ANNOTATION, type LeaseRecord } from '../../../leases/lease-clock.js';
import type { VirtualMachineStatus } from '../../../api/virtual-machine.js';
import { extendSpecHash } from '../desired-definition.js';
import { isActive } from '../plan.js';
import { removeExpiredDomain } from './lease-removal.js';
import type { StepOutcome, VmContext, VmStep } from './step.js';
import type { StepDeps } from './deps.js';

declare module './deps.js' {
  interface AreaDeps {
    /** The deletion gate: a lease that says Delete removes the domain with its permit only. */
    gate?: DeletionGate;
  }
}

/** What each run decided, for its events once the status is written. */
const decided = new WeakMap<VmContext, LeaseDecision>();

/** The lease record a status carries (status.expiresAt and status.lease). */
export function statusLease(status: VirtualMachineStatus | undefined): LeaseRecord | undefined {
  if (!status?.expiresAt || !status.lease) return undefined;
  return { startedAt: status.lease.startedAt, expiresAt: status.expiresAt, ...(status.lease.renewedAt !== undefined ? { renewedAt: status.lease.renewedAt } : {}) };
}

export const leaseStep: VmStep = {
  name: 'lease',
  conditions: [LEASE_CONDITION],
  run: lease,
  afterStatus(ctx, deps) {
    for (const e of decided.get(ctx)?.events ?? []) deps.events.record(ctx.key, e.type, e.reason, e.message);
  },
};

async function lease(ctx: VmContext, deps: StepDeps): Promise<StepOutcome> {
  const { vm, previous, observed } = ctx;
  const remembered = rememberedLease(statusLease(previous), observed?.owner?.lease);
  const renewRequest = vm.metadata.annotations?.[RENEWED_AT_ANNOTATION];
  const decision = decideLease({
    generation: vm.metadata.generation, nowMs: deps.now(),
    ...(vm.spec.lease ? { lease: vm.spec.lease } : {}),
    ...(renewRequest !== undefined ? { renewRequest } : {}),
    ...(remembered ? { remembered } : {}),
    ...(previous ? { previous: previous.conditions.find((c) => c.type === LEASE_CONDITION) ?? { reason: '' } } : {}),
  });
  decided.set(ctx, decision);
  // An invalid lease is not applied, and not forgotten either: fixed, it goes on where it was.
  const record = decision.record ?? (decision.condition?.reason === 'InvalidLease' ? remembered : undefined);
  ctx.status.lease = record ?? null;
  if (record) {
    ctx.definition!.owner.lease = record;
    // A new start or renewal alone redefines the domain, so its metadata remembers it.
    extendSpecHash(ctx.definition!, { lease: record });
  }
  if (decision.condition) {
    const { observedGeneration: _, ...condition } = decision.condition;
    ctx.setCondition(condition);
  }
  if (decision.requeueAfterMs !== undefined) ctx.requeueAfter(decision.requeueAfterMs);
  if (!decision.expiry) {
    // Renewed after a save: restore it (Always restores anyway; Once and RerunOnFailure need the word).
    const wasExpired = previous?.conditions.some((c) => c.type === LEASE_CONDITION && c.reason === 'Expired');
    if (wasExpired && vm.spec.lease?.onExpiry === 'Save') ctx.power = { ...ctx.power, powerState: vm.spec.powerState ?? 'Running' };
    return;
  }

  ctx.claimPrintableStatus('Expired', 'LeaseExpired', decision.condition!.message);
  switch (decision.expiry.power) {
    case 'Halted':
      ctx.power = { ...ctx.power, runStrategy: 'Halted', overriddenBy: 'lease' };
      return;
    case 'Saved':
      // A running guest is saved whatever the runStrategy (Manual would leave it); one that is not
      // running has nothing to save and is not started.
      ctx.power = { runStrategy: observed && isActive(observed.state) ? 'Always' : 'Halted', powerState: 'Saved', overriddenBy: 'lease' };
      return;
    case 'Removed':
      return removeExpiredDomain(ctx, deps, record!);
  }
}
