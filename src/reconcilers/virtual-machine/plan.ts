// What to do to a domain, decided from desired and observed state alone. Pure: no I/O, no clock
// (the caller passes `now`), so every branch is a row in a table test.
import type { PowerState, RunStrategy } from '../../api/virtual-machine.js';
import type { DomainState } from '../../ports/hypervisor.js';
import { diffFacts, type DomainFacts, type OwnerMetadata } from './domain-xml.js';
import { powerStateActions } from './power-state.js';

export type Action =
  | { type: 'define' }
  | { type: 'start' }
  | { type: 'shutdown' }
  | { type: 'destroy' }
  | { type: 'undefine' }
  | { type: 'suspend' }
  | { type: 'resume' }
  /** libvirt managed save: the guest's memory to disk, the domain off; the next start restores it. */
  | { type: 'save' };

/**
 * Why the controller asked the guest to shut down. 'withdrawn' is a halt the spec no longer asks
 * for (stop, then start again at once): the guest had the ACPI request and may act on it, so it
 * is started again if it goes down and the runStrategy wants it running; one that ignores the
 * request keeps running. Never forced.
 */
export type StopIntent = 'halt' | 'restart' | 'delete' | 'withdrawn';

/** A graceful shutdown the controller asked for and is waiting on. */
export interface Stopping {
  intent: StopIntent;
  sinceMs: number;
}

export interface ObservedDomain {
  state: DomainState;
  /** Why it is in that state (libvirt's reason: 'shutdown', 'destroyed', 'crashed'...), when known. */
  reason?: string;
  persistent: DomainFacts;
  live?: DomainFacts;
  owner?: OwnerMetadata;
  /** Shut off with a managed-save image (looked up only where it matters). */
  saved?: boolean;
}

export interface DesiredDomain {
  facts: DomainFacts;
  specHash: string;
  generation: number;
  /** The identity the domain's metadata must carry. */
  controller?: string;
  /** The metadata must remember that the guest ran (set once it starts). */
  startedOnce?: boolean;
  /** The restart request (wimaxvm.io/restartedAt) handled last, which the metadata must remember. */
  restartedAt?: string;
  /** The VLAN the metadata must remember (off the switch it is in no other part of the definition). */
  vlan?: number;
}

export interface PlanInput {
  /** Absent when the resource is gone: the domain is to be removed. */
  runStrategy?: RunStrategy;
  desired?: DesiredDomain;
  observed?: ObservedDomain;
  stopping?: Stopping;
  startedOnce: boolean;
  /** The user asked for a restart (the wimaxvm.io/restartedAt annotation moved on). */
  restartRequested?: boolean;
  /** The declared power state (spec.powerState, or a step's override); undefined: not declared. */
  powerState?: PowerState;
  /** Fields (diffFacts names) a later step applies to the running guest: their change needs no restart. */
  appliedLive?: readonly string[];
  nowMs: number;
  shutdownTimeoutMs: number;
}

export interface Plan {
  actions: Action[];
  /** The shutdown still being waited on after these actions, if any. */
  stopping?: Stopping;
  requeueAfterMs?: number;
  /** Fields whose change waits for a restart the runStrategy does not let the controller make. */
  restartRequired: string[];
  /** The definition must say the guest has started (its first start is in this plan). */
  recordsStart?: boolean;
}

/** How long to wait between looks at a guest that is shutting down. */
export const STOP_POLL_MS = 500;

const ACTIVE_STATES: ReadonlySet<DomainState> = new Set(['running', 'blocked', 'paused', 'shutdown', 'pmsuspended', 'crashed']);

export function isActive(state: DomainState): boolean {
  return ACTIVE_STATES.has(state);
}

/** The run strategies whose decisions depend on whether the guest already ran. */
export function remembersStart(strategy: RunStrategy): boolean {
  return strategy === 'Once' || strategy === 'RerunOnFailure';
}

/** Whether the controller may restart a running guest to apply a change. */
export function restartAllowed(strategy: RunStrategy): boolean {
  return strategy === 'Always' || strategy === 'RerunOnFailure';
}

type Want = 'run' | 'stop' | 'keep';

/**
 * The reasons a guest stopped that count as a failure for RerunOnFailure. KubeVirt restarts
 * such a VM only when it "terminated in an uncontrolled way" (a crash; its QEMU process killed or
 * OOMed), never when the guest shut itself down, which is how a user ends it. `virsh destroy`
 * kills QEMU from outside, without the guest's say: to the guest that is the same as its process
 * being OOM-killed, so it fails it and the guest runs again (KubeVirt marks a killed VMI Failed).
 * To stop such a VM for good, declare runStrategy Halted. A stop the controller made itself is
 * never seen here as a failure: its own stops go through `stopping` (halt, restart, delete).
 * 'saved' (managed save), 'migrated' and 'from-snapshot' are deliberate; 'unknown' and 'daemon'
 * say too little to restart on.
 */
const FAILURE_REASONS: ReadonlySet<string> = new Set(['crashed', 'failed', 'destroyed']);

export function stoppedByFailure(state: DomainState | undefined, reason: string | undefined): boolean {
  return state === 'crashed' || (state === 'shutoff' && reason !== undefined && FAILURE_REASONS.has(reason));
}

/** KubeVirt's run strategies, reduced to what this observation calls for. */
export function wantedPower(strategy: RunStrategy, state: DomainState | undefined, startedOnce: boolean, stopping?: Stopping, reason?: string): Want {
  switch (strategy) {
    case 'Always':
      return 'run';
    case 'Halted':
      return 'stop';
    case 'Manual':
      return 'keep';
    case 'Once':
      return startedOnce ? 'keep' : 'run';
    case 'RerunOnFailure':
      // A guest that shut itself down completed; one that crashed or was killed failed and runs again.
      if (!startedOnce || stoppedByFailure(state, reason) || stopping?.intent === 'restart' || stopping?.intent === 'withdrawn') return 'run';
      return 'keep';
  }
}

function needsDefine(desired: DesiredDomain, observed: ObservedDomain | undefined): boolean {
  if (!observed) return true;
  if (diffFacts(observed.persistent, desired.facts).length > 0) return true;
  const owner = observed.owner;
  return owner?.specHash !== desired.specHash || owner?.generation !== desired.generation
    || owner?.controller !== desired.controller || (desired.startedOnce === true && owner?.startedOnce !== true)
    || (desired.restartedAt !== undefined && owner?.restartedAt !== desired.restartedAt)
    || (desired.vlan !== undefined && owner?.vlan !== desired.vlan);
}

/** A halt the spec no longer asks for is withdrawn (and a withdrawn one asked for again is a halt again). */
function reviseStopping(stopping: Stopping, want: Want): Stopping {
  if (stopping.intent === 'halt' && want !== 'stop') return { ...stopping, intent: 'withdrawn' };
  if (stopping.intent === 'withdrawn' && want === 'stop') return { ...stopping, intent: 'halt' };
  return stopping;
}

/** Waits out a graceful shutdown, then forces it. Returns true while still waiting. */
function continueStopping(stopping: Stopping, input: PlanInput, actions: Action[], plan: Plan): boolean {
  const waited = input.nowMs - stopping.sinceMs;
  if (waited >= input.shutdownTimeoutMs) {
    actions.push({ type: 'destroy' });
    return false;
  }
  plan.stopping = stopping;
  plan.requeueAfterMs = Math.min(STOP_POLL_MS, input.shutdownTimeoutMs - waited);
  return true;
}

function beginStopping(intent: StopIntent, input: PlanInput, observed: ObservedDomain, actions: Action[], plan: Plan): void {
  // A guest someone paused is resumed to shut down cleanly; one that libvirt paused (I/O error,
  // a save under way) or that crashed cannot react to ACPI: power it off.
  if (observed.state === 'paused' && observed.reason === 'user') actions.push({ type: 'resume' });
  else if (observed.state === 'paused' || observed.state === 'crashed' || observed.state === 'pmsuspended') {
    actions.push({ type: 'destroy' });
    return;
  }
  if (observed.state !== 'shutdown') actions.push({ type: 'shutdown' });
  plan.stopping = { intent, sinceMs: input.nowMs };
  plan.requeueAfterMs = Math.min(STOP_POLL_MS, input.shutdownTimeoutMs);
}

export function planVirtualMachine(input: PlanInput): Plan {
  return rememberStart(planActions(input), input);
}

/**
 * A guest's first start is written into its domain's metadata before it happens, so that losing
 * the state store never makes a Once or RerunOnFailure guest run again.
 */
function rememberStart(plan: Plan, input: PlanInput): Plan {
  const startAt = plan.actions.findIndex((a) => a.type === 'start');
  if (!input.desired || !input.runStrategy || !remembersStart(input.runStrategy) || startAt < 0 || input.observed?.owner?.startedOnce) return plan;
  plan.recordsStart = true;
  if (!plan.actions.slice(0, startAt).some((a) => a.type === 'define')) plan.actions.splice(startAt, 0, { type: 'define' });
  return plan;
}

function planActions(input: PlanInput): Plan {
  const { desired, observed, runStrategy } = input;
  const actions: Action[] = [];
  const plan: Plan = { actions, restartRequired: [] };

  if (!desired || !runStrategy) {
    if (!observed) return plan;
    if (isActive(observed.state)) {
      if (input.stopping) {
        if (continueStopping(input.stopping, input, actions, plan)) return plan;
      } else {
        beginStopping('delete', input, observed, actions, plan);
        if (plan.stopping) return plan;
      }
    }
    actions.push({ type: 'undefine' });
    return plan;
  }

  if (needsDefine(desired, observed)) actions.push({ type: 'define' });
  const state = observed?.state ?? 'shutoff';
  const active = isActive(state);
  const want = wantedPower(runStrategy, state, input.startedOnce, input.stopping, observed?.reason);

  const stopping = input.stopping && reviseStopping(input.stopping, want);
  if (stopping?.intent === 'withdrawn' && active) {
    if (input.nowMs - stopping.sinceMs < input.shutdownTimeoutMs) {
      plan.stopping = stopping;
      plan.requeueAfterMs = Math.min(STOP_POLL_MS, input.shutdownTimeoutMs - (input.nowMs - stopping.sinceMs));
      return plan;
    }
    // The guest ignored the shutdown and runs, as the spec now wants: nothing is waited for any more.
  } else if (stopping && active) {
    if (continueStopping(stopping, input, actions, plan)) return plan;
    if (want !== 'stop') actions.push({ type: 'start' });
    return plan;
  }
  // A restart we began (or a halt withdrawn) has stopped the guest: start it again, whatever the runStrategy says.
  if (!active && ((stopping?.intent === 'restart' && want !== 'stop') || (stopping?.intent === 'withdrawn' && want === 'run'))) {
    actions.push({ type: 'start' });
    return plan;
  }
  if (input.restartRequested && active && want !== 'stop') {
    beginStopping('restart', input, observed!, actions, plan);
    if (actions.at(-1)?.type === 'destroy') actions.push({ type: 'start' }); // paused or crashed: powered off at once
    return plan;
  }
  // The shutdown we waited for has happened (or there was none). A VLAN change is applied to the
  // running guest's switch port, never by a restart.
  const liveDiff = active && observed?.live ? diffFacts(observed.live, desired.facts).filter((f) => f !== 'vlan' && !input.appliedLive?.includes(f)) : [];
  const declared = powerStateActions({ runStrategy, want, state, saved: observed?.saved === true, ...(input.powerState ? { powerState: input.powerState } : {}), ...(observed?.reason ? { reason: observed.reason } : {}) });
  if (declared) {
    actions.push(...declared);
    // A guest held paused is not restarted to apply a change (nor is one being saved): the change waits.
    if (!declared.some((a) => a.type === 'save')) plan.restartRequired = liveDiff;
    return plan;
  }

  if (want === 'stop') {
    if (active) beginStopping('halt', input, observed!, actions, plan);
  } else if (want === 'run' && !active) {
    actions.push({ type: 'start' });
  } else if (want === 'run' && state === 'crashed') {
    actions.push({ type: 'destroy' }, { type: 'start' });
  } else if (liveDiff.length > 0) {
    // A running guest whose definition changed: restart it if the runStrategy puts the
    // controller in charge of running it, else say a restart is needed.
    if (restartAllowed(runStrategy) && state !== 'paused') beginStopping('restart', input, observed!, actions, plan);
    else plan.restartRequired = liveDiff;
  }
  return plan;
}
