// The status a VirtualMachine reports, computed from what the reconcile saw and did. Pure.
import { setKstatusConditions, type Progress } from '../../api/kstatus.js';
import { removeCondition, setCondition, type Condition } from '../../api/meta.js';
import type { PowerState, PrintableStatus, RunStrategy, VirtualMachineStatus } from '../../api/virtual-machine.js';
import type { SourceProblem } from '../../core/desired-store.js';
import type { DomainState } from '../../ports/hypervisor.js';
import type { SlicePath } from '../../ports/datapath.js';
import type { LeaseRecord } from '../../leases/lease-clock.js';
import { isActive, wantedPower, type Stopping } from './plan.js';
import { holdsPowerState, powerStateActions } from './power-state.js';

/** Consecutive failed starts before the status says CrashLoopBackOff, as KubeVirt does. */
export const CRASH_LOOP_THRESHOLD = 3;

export interface StatusInput {
  generation: number;
  runStrategy: RunStrategy;
  previous?: VirtualMachineStatus;
  /** saved: shut off with a managed-save image. */
  domain?: { name: string; uuid: string; id?: number; state: DomainState; reason?: string; saved?: boolean; vncPort?: number };
  allocations: VirtualMachineStatus['allocations'];
  stopping?: Stopping;
  startedOnce: boolean;
  restarts: number;
  restartedAt?: string;
  startFailures: number;
  restartRequired: string[];
  /** The reconcile failed: terminal errors need the user, others are retried. */
  error?: { reason: string; message: string; terminal: boolean };
  sourceProblem?: SourceProblem;
  /** No VLAN could be had (conflict, or the range is used up). */
  vlanProblem?: { reason: string; message: string };
  /** Not defined yet: waiting for a VLAN (an OVS port is never attached without one). */
  pending?: boolean;
  /** The Hypervisor that runs the VM (placement step, hosts area). */
  nodeName?: string;
  /** What a graceful stop waits for (shown in the Ready condition while Stopping or Terminating). */
  stopWait?: string;
  /** The running VM's switch port and what it carries. */
  port?: { name: string; slice?: SlicePath };
  /** The power state declared for a guest the runStrategy wants running (Running when absent). */
  powerState?: PowerState;
  /** Conditions the steps that ran set; the ones they own and did not set are removed. */
  stepConditions?: { set: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>[]; owned: string[] };
  /** A step's claim on the printableStatus (a lease that expired): Ready is False with its reason. */
  claim?: { printableStatus: PrintableStatus; reason: string; message: string };
  /** The lease in force (status.expiresAt, status.lease); null: none; undefined: the lease step did not run, kept as it was. */
  lease?: LeaseRecord | null;
  now: string;
}

function printable(input: StatusInput): PrintableStatus {
  const state = input.domain?.state;
  if (input.stopping?.intent === 'delete') return 'Terminating';
  if (input.error?.terminal) return 'Failed';
  if (input.claim) return input.claim.printableStatus;
  if (input.pending) return 'Pending';
  if (input.startFailures >= CRASH_LOOP_THRESHOLD && wantedPower(input.runStrategy, state, input.startedOnce, input.stopping, input.domain?.reason) === 'run') return 'CrashLoopBackOff';
  if (!state) return 'Provisioning';
  // A withdrawn halt waits only to see whether the guest acts on it: it says what the guest does.
  if (input.stopping && input.stopping.intent !== 'withdrawn') return 'Stopping';
  switch (state) {
    case 'running': case 'blocked': return 'Running';
    case 'paused': case 'pmsuspended': return 'Paused';
    case 'shutdown': return 'Stopping';
    case 'crashed': return 'Failed';
    case 'nostate': return 'Unknown';
    case 'shutoff':
      return shutOff(input);
  }
}

/** Off: on its way up (the runStrategy or the declared power state starts it), saved, or stopped. */
function shutOff(input: StatusInput): PrintableStatus {
  const want = wantedPower(input.runStrategy, 'shutoff', input.startedOnce, input.stopping, input.domain?.reason);
  const saved = input.domain?.saved === true;
  const declared = powerStateActions({ runStrategy: input.runStrategy, want, state: 'shutoff', saved, ...(input.powerState ? { powerState: input.powerState } : {}) });
  if (declared ? declared.some((a) => a.type === 'start') : want === 'run') return 'Starting';
  return saved ? 'Saved' : 'Stopped';
}

function readiness(input: StatusInput, status: PrintableStatus): Omit<Condition, 'lastTransitionTime'> {
  const base = { type: 'Ready', observedGeneration: input.generation };
  const want = wantedPower(input.runStrategy, input.domain?.state, input.startedOnce, input.stopping, input.domain?.reason);
  if (input.error) return { ...base, status: 'False', reason: input.error.reason, message: input.error.message };
  // Not the slice its spec asks for (or none at all): not ready, whatever the guest's state.
  if (input.vlanProblem) return { ...base, status: 'False', reason: input.vlanProblem.reason, message: input.vlanProblem.message };
  if (input.claim) return { ...base, status: 'False', reason: input.claim.reason, message: input.claim.message };
  const state = input.domain?.state;
  const honoured = want !== 'stop' && input.runStrategy !== 'Manual' && input.powerState !== undefined && input.powerState !== 'Running';
  const held = honoured && holdsPowerState(input.powerState, state, input.domain?.saved === true);
  const converged = held || (!honoured && (status === 'Running' && want !== 'stop')) ||
    ((status === 'Stopped' || status === 'Saved') && want !== 'run') ||
    (state !== undefined && !isActive(state) && want === 'keep');
  if (input.stopWait && (status === 'Stopping' || status === 'Terminating')) return { ...base, status: 'False', reason: status, message: input.stopWait };
  const wanted = want === 'run' ? 'wants it running' : want === 'stop' ? 'wants it stopped' : 'leaves starting and stopping it to you';
  const message = held
    ? `the guest is ${status.toLowerCase()}, as powerState ${input.powerState} asks`
    : converged
    ? `the guest is ${status.toLowerCase()}, as runStrategy ${input.runStrategy} asks`
    : `the guest is ${status.toLowerCase()}; runStrategy ${input.runStrategy} ${wanted}`;
  return { ...base, status: converged ? 'True' : 'False', reason: status, message };
}

/** Statuses on the way to what the spec asks: the controller is at work (kstatus InProgress). */
const TRANSITIONAL: ReadonlySet<PrintableStatus> = new Set(['Pending', 'Provisioning', 'Starting', 'Stopping', 'Terminating']);

/**
 * kstatus's view: Stalled for what needs the user (a terminal error, a crash loop, no VLAN to
 * be had), Reconciling while the controller works towards the spec or retries an error.
 */
export function progressOf(input: StatusInput, status: PrintableStatus): Progress {
  if (input.error?.terminal) return { state: 'stalled', why: { reason: input.error.reason, message: input.error.message } };
  if (status === 'CrashLoopBackOff') {
    return { state: 'stalled', why: { reason: 'CrashLoopBackOff', message: `the guest failed to start ${input.startFailures} times in a row${input.error ? `: ${input.error.message}` : ''}; retrying with backoff` } };
  }
  // Waiting for an automatic holder to move off the VLAN is progress, not a stall.
  if (input.vlanProblem) return { state: input.vlanProblem.reason === 'VLANReclaiming' ? 'reconciling' : 'stalled', why: input.vlanProblem };
  if (input.error) return { state: 'reconciling', why: { reason: input.error.reason, message: `${input.error.message}; retrying` } };
  if (TRANSITIONAL.has(status)) return { state: 'reconciling', why: { reason: status, message: `the guest is ${status.toLowerCase()}` } };
  return { state: 'done' };
}

export function computeStatus(input: StatusInput): VirtualMachineStatus {
  const printableStatus = printable(input);
  let conditions = input.previous?.conditions ?? [];
  conditions = setCondition(conditions, readiness(input, printableStatus), input.now);
  conditions = setKstatusConditions(conditions, progressOf(input, printableStatus), input.generation, input.now);

  conditions = input.restartRequired.length
    ? setCondition(conditions, {
        type: 'RestartRequired', status: 'True', reason: 'SpecChangedWhileRunning', observedGeneration: input.generation,
        message: `${input.restartRequired.join(', ')} changed; runStrategy ${input.runStrategy} leaves the restart to you`,
      }, input.now)
    : removeCondition(conditions, 'RestartRequired');

  conditions = input.vlanProblem
    ? setCondition(conditions, { type: 'VLANAssigned', status: 'False', reason: input.vlanProblem.reason, message: input.vlanProblem.message, observedGeneration: input.generation }, input.now)
    : removeCondition(conditions, 'VLANAssigned');

  conditions = input.sourceProblem
    ? setCondition(conditions, { type: 'SourceValid', status: 'False', reason: input.sourceProblem.reason, message: input.sourceProblem.message, observedGeneration: input.generation }, input.now)
    : removeCondition(conditions, 'SourceValid');

  conditions = applyStepConditions(conditions, input);

  const status: VirtualMachineStatus = {
    printableStatus,
    observedGeneration: input.generation,
    conditions,
    allocations: input.allocations,
  };
  if (input.nodeName) status.nodeName = input.nodeName;
  if (input.domain) {
    const { name, uuid, id, state, vncPort } = input.domain;
    status.domain = { name, uuid, state, ...(id !== undefined ? { id } : {}), ...(vncPort !== undefined ? { vncPort } : {}) };
  }
  if (input.port && status.domain) status.domain.port = input.port.name;
  const slice = input.port?.slice;
  if (slice) {
    status.shaping = {
      ...(slice.downlinkKbps !== undefined ? { downlinkKbps: slice.downlinkKbps } : {}),
      ...(slice.uplinkKbps !== undefined ? { uplinkKbps: slice.uplinkKbps } : {}),
    };
  }
  if (input.startedOnce) status.startedOnce = true;
  if (input.restarts > 0) status.restarts = input.restarts;
  if (input.restartedAt) status.restartedAt = input.restartedAt;
  const lease = input.lease === undefined ? leaseOf(input.previous) : input.lease;
  if (lease) {
    status.expiresAt = lease.expiresAt;
    status.lease = { startedAt: lease.startedAt, ...(lease.renewedAt !== undefined ? { renewedAt: lease.renewedAt } : {}) };
  }
  return status;
}

/** A lease is never forgotten by a reconcile that stopped before the lease step (a spec error, Pending). */
function leaseOf(previous: VirtualMachineStatus | undefined): LeaseRecord | undefined {
  if (!previous?.expiresAt || !previous.lease) return undefined;
  return { ...previous.lease, expiresAt: previous.expiresAt };
}

function applyStepConditions(conditions: Condition[], input: StatusInput): Condition[] {
  const steps = input.stepConditions;
  if (!steps) return conditions;
  for (const type of steps.owned) if (!steps.set.some((c) => c.type === type)) conditions = removeCondition(conditions, type);
  for (const c of steps.set) conditions = setCondition(conditions, { ...c, observedGeneration: input.generation }, input.now);
  return conditions;
}
