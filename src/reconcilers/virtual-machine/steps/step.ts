// The shape of one step of a VirtualMachine's reconcile (the Flux way: each step does one job,
// owns its conditions, and may stop the reconcile), and what the steps share while one runs.
import type { Condition, ResourceKey } from '../../../api/meta.js';
import type { PowerState, PrintableStatus, RunStrategy, VirtualMachine, VirtualMachineStatus } from '../../../api/virtual-machine.js';
import type { DomainDefinition } from '../domain-xml.js';
import type { Observed } from '../observe.js';
import type { StatusInput } from '../status.js';
import type { StepDeps } from './deps.js';

/** A condition a step sets; its lastTransitionTime and observedGeneration are filled in when status is written. */
export type StepCondition = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** The power the guest should have: the spec's, unless a step (a lease that expired) overrides it. */
export interface PowerWish {
  runStrategy: RunStrategy;
  /** How a guest the runStrategy wants running should be: running, paused, or saved to disk; undefined: not declared (left as it is). */
  powerState?: PowerState;
  /** Who overrode the spec's wish, if anyone (said in the log and events): 'lease'... */
  overriddenBy?: string;
}

export interface VmContext {
  readonly key: ResourceKey;
  readonly vm: VirtualMachine;
  readonly domainName: string;
  /** The status as last written (undefined for a new VM or a lost state store). */
  readonly previous?: VirtualMachineStatus;
  /** The domain as the reconcile first saw it (undefined: not defined yet). */
  readonly observed?: Observed;
  /** The domain as last seen: `observed` until the power step acted, then as it is after its actions. */
  domain?: Observed;
  /** The allocations the steps made so far. */
  mac?: string;
  vlan?: number;
  /** The address from the VM's IP pool (pools): written to status.allocations.ip. */
  ip?: string;
  /** Each spec disk's base image, resolved. */
  diskImages: string[];
  /** The definition the domain must have: built by the definition step; steps before power may add to it. */
  definition?: DomainDefinition;
  power: PowerWish;
  /**
   * Fields (names as diffFacts gives them: 'memory', 'vcpus', 'disks', 'network') that a step after power
   * applies to the running guest: the power step neither restarts for them nor reports them as
   * RestartRequired. Added to by steps before power.
   */
  appliedLive: string[];
  /** Status fields the steps found out (the status written at the end is computed from them). */
  status: Partial<StatusInput>;
  /** A step's action failed: later steps that act on the domain skip; status says ReconcileError; the reconcile is retried. */
  failure?: unknown;
  /** Asks for another look within `ms` (the soonest of all asks wins). */
  requeueAfter(ms: number): void;
  /** Sets a condition this step owns (declared in its `conditions`). */
  setCondition(condition: StepCondition): void;
  /** Claims the printableStatus (only Terminating and a terminal Failed outrank it), with the Ready condition's reason and message. */
  claimPrintableStatus(status: PrintableStatus, reason: string, message: string): void;
}

/** What a step returns: nothing to go on, or stop here (status is still written) with an optional requeue. */
export type StepOutcome = void | { stop: true; requeueAfterMs?: number };

export interface VmStep {
  /** Short and unique: tests and the contract name steps by it. */
  readonly name: string;
  /** The condition types this step owns: those it did not set in a run are removed from status. */
  readonly conditions?: readonly string[];
  run(ctx: VmContext, deps: StepDeps): Promise<StepOutcome> | StepOutcome;
  /** After status was written by a reconcile without failure (events that must follow the status, say). */
  afterStatus?(ctx: VmContext, deps: StepDeps): void;
}
