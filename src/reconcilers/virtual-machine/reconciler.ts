// Reconciles one VirtualMachine in ordered steps: observe the domain (observe.ts), the definition
// it asks for (desired-definition.ts), plan (plan.ts), act on the domain (domain-actions.ts),
// its switch port (switch-port.ts), and write status once (status-writer.ts).
import { parseResourceKey, setCondition, type ResourceKey } from '../../api/meta.js';
import { domainNameFor, RESTARTED_AT_ANNOTATION, VM_KIND, type VirtualMachine, type VirtualMachineStatus } from '../../api/virtual-machine.js';
import { MacAllocator } from '../../allocators/mac-allocator.js';
import type { DeletionGate, DeletionPermit } from '../../core/deletion-gate.js';
import type { DesiredStore } from '../../core/desired-store.js';
import { errorMessage, type Logger } from '../../core/logger.js';
import { TerminalError, type ReconcileResult, type Reconciler } from '../../core/result.js';
import type { DiskImages } from '../../ports/disk-images.js';
import type { EventRecorder } from '../../ports/event-recorder.js';
import { HypervisorUnavailableError, type DomainState, type Hypervisor } from '../../ports/hypervisor.js';
import type { StatusStore } from '../../ports/status-store.js';
import { buildDomainXml, factsOf, vmPortName, type DomainDefinition, type NicAttachment, type OwnerMetadata } from './domain-xml.js';
import type { VlanChoice } from './slice-network.js';
import type { VlanAllocator } from '../../allocators/vlan-allocator.js';
import { InProcessVlanClaims } from '../../adapters/in-process-vlan-claims.js';
import type { VlanClaims } from '../../ports/vlan-claims.js';
import { DatapathUnavailableError, type Datapath, type SlicePath } from '../../ports/datapath.js';
import { isActive, planVirtualMachine, remembersStart, type Plan, type Stopping } from './plan.js';
import { ownershipOf, type Identity } from './ownership.js';
import type { StatusInput } from './status.js';
import { ProblemReporter } from '../problem-reporter.js';
import { describeStopWait } from './stop-wait.js';
import { observe, type Observed } from './observe.js';
import { DomainActivity } from './domain-activity.js';
import { desiredDefinition } from './desired-definition.js';
import { SwitchPorts } from './switch-port.js';
import { act } from './domain-actions.js';
import { statusInputFor, writeVmStatus } from './status-writer.js';

export { domainUuidFor } from './desired-definition.js';

/** How soon a deletion the gate withheld is looked at again (a resync also brings it back). */
const WITHHELD_RECHECK_MS = 15_000;

/** Largest guest memory accepted: beyond this a typo (1Ti for 1Gi) is likelier than intent. */

export interface VirtualMachineReconcilerDeps {
  store: DesiredStore;
  /** The only way to a deletion: a domain is removed with its permit only. */
  gate: DeletionGate;
  /** Whose domains these are: others' are never touched. */
  identity: Identity;
  vlans: VlanAllocator;
  /** Where VLANs are claimed testbed-wide (the API server in Kubernetes mode); in the process when absent. */
  vlanClaims?: VlanClaims;
  /** The switch, when VM NICs are on Open vSwitch: VLAN tags and slice rates go there. */
  datapath?: Datapath;
  /** Whether shaping is on in a namespace (the ShapingPolicy named default). */
  shapingEnabled?: (namespace: string) => boolean;
  /** Puts another VM back in the queue (one that must move off a VLAN another VM's spec names). */
  requeue?: (key: ResourceKey) => void;
  /** Told after a VM's status changed, so that the stations bound to it look again. */
  onStatusChange?: (key: ResourceKey) => void;
  hypervisor: Hypervisor;
  disks: DiskImages;
  statuses: StatusStore;
  events: EventRecorder;
  macs: MacAllocator;
  logger: Logger;
  nic: NicAttachment;
  shutdownTimeoutMs: number;
  now?: () => number;
}

export class VirtualMachineReconciler implements Reconciler {
  readonly kind = VM_KIND;
  private readonly stopping = new Map<ResourceKey, Stopping>();
  private readonly startFailures = new Map<ResourceKey, number>();
  /** The stop (by its start time) whose wait was last said in the log, per resource: said once. */
  private readonly stopWaitSaid = new Map<ResourceKey, number>();
  /** What the last reconciles saw of each domain, so a poller can tell our changes from others'. */
  private readonly activity = new DomainActivity();
  private readonly now: () => number;
  private readonly vlanClaims: VlanClaims;
  private readonly problems: ProblemReporter;
  private readonly ports: SwitchPorts;

  constructor(private readonly deps: VirtualMachineReconcilerDeps) {
    this.now = deps.now ?? Date.now;
    this.problems = new ProblemReporter(deps);
    this.vlanClaims = deps.vlanClaims ?? new InProcessVlanClaims();
    this.ports = new SwitchPorts({ ...deps, vlanClaims: this.vlanClaims });
  }

  /** What the last reconcile saw of a domain: 'absent' once it is gone, undefined if never seen. */
  lastObservedActivity(domainName: string): 'active' | 'inactive' | 'absent' | undefined {
    return this.activity.lastObserved(domainName);
  }

  /** The name of the domain last observed active with this id. */
  nameOfDomainId(id: number): string | undefined {
    return this.activity.nameOfId(id);
  }

  /** The domain's state as the last reconcile saw it: 'absent' once gone, undefined if never seen. */
  lastObservedState(domainName: string): DomainState | 'absent' | undefined {
    return this.activity.lastState(domainName);
  }

  /** Runs `fn` once no reconcile of the domain is in flight, so news about it is judged against what that reconcile saw. */
  whenSettled(domainName: string, fn: () => void): void {
    this.activity.whenSettled(domainName, fn);
  }

  async reconcile(key: ResourceKey): Promise<ReconcileResult> {
    const { namespace, name } = parseResourceKey(key);
    const domainName = domainNameFor(namespace, name);
    this.activity.begin(domainName);
    try {
      return await this.reconcileDomain(key);
    } finally {
      this.activity.end(domainName);
    }
  }

  private async reconcileDomain(key: ResourceKey): Promise<ReconcileResult> {
    const { namespace, name } = parseResourceKey(key);
    const domainName = domainNameFor(namespace, name);
    const vm = this.deps.store.get<VirtualMachine>(key);
    let observed: Observed | undefined;
    try {
      observed = observe(await this.deps.hypervisor.getDomain(domainName));
    } catch (err) {
      if (!vm && err instanceof HypervisorUnavailableError) await this.reportBlockedCleanup(key, err);
      throw err;
    }

    const notOurs = observed && this.notOurs(observed.owner, namespace, name, domainName, vm !== undefined);
    if (notOurs) {
      if (!vm) return this.forgetResource(key); // the domain is not ours: never touched
      this.problems.report(key, notOurs.reason, notOurs.message);
      await this.writeStatus(key, vm, this.statusInput(key, vm, undefined, { ...notOurs, terminal: true }));
      return { requeueAfterMs: 60_000 };
    }
    if (!vm) {
      try {
        // Deleting: "absent" must come from libvirt itself, not from what the adapter remembers.
        const confirmed = observed ?? observe(await this.deps.hypervisor.getDomain(domainName, true));
        if (confirmed && this.notOurs(confirmed.owner, namespace, name, domainName, false)) return await this.forgetResource(key);
        if (!confirmed && !this.deps.statuses.get(key) && !this.deps.macs.get(key)) {
          this.deps.gate.settled(key);
          return {}; // nothing left of it
        }
        const decision = this.deps.gate.decide(key, domainName);
        if ('withheld' in decision) return { requeueAfterMs: WITHHELD_RECHECK_MS };
        return await this.remove(key, domainName, confirmed, decision.permit);
      } catch (err) {
        if (err instanceof HypervisorUnavailableError) await this.reportBlockedCleanup(key, err);
        throw err;
      }
    }
    this.deps.gate.settled(key);
    return this.converge(key, vm, domainName, observed);
  }

  /** Why the domain named after this resource is not this controller's to touch; undefined if it is. */
  private notOurs(owner: OwnerMetadata | undefined, namespace: string, name: string, domainName: string, declared: boolean): { reason: string; message: string } | undefined {
    const ownership = ownershipOf(owner, namespace, name, this.deps.identity, declared);
    if (ownership.kind === 'ours') return undefined;
    if (ownership.kind === 'elsewhere') {
      return { reason: 'DomainOwnedElsewhere', message: `domain ${domainName} belongs to the wimaxvm controller ${ownership.controller}; this controller (${this.deps.identity.self}) leaves it alone (see README: taking over from a controller that is gone)` };
    }
    return { reason: 'DomainNameTaken', message: `a libvirt domain named ${domainName} exists and does not belong to this resource; wimaxvm leaves it alone` };
  }

  private async converge(key: ResourceKey, vm: VirtualMachine, domainName: string, observed: Observed | undefined): Promise<ReconcileResult> {
    // Declared again while it was being stopped for deletion: that stop is no longer wanted.
    if (this.stopping.get(key)?.intent === 'delete') this.stopping.delete(key);
    const previous = this.previousStatus(key);
    let definition: DomainDefinition;
    let diskImages: string[];
    let vlanChoice: VlanChoice;
    try {
      ({ definition, diskImages, vlanChoice } = await desiredDefinition({ ...this.deps, vlanClaims: this.vlanClaims }, key, vm, domainName, observed, previous));
    } catch (err) {
      if (!(err instanceof TerminalError)) throw err;
      this.problems.report(key, err.reason, err.message);
      await this.writeStatus(key, vm, this.statusInput(key, vm, observed, { reason: err.reason, message: err.message, terminal: true }));
      return {};
    }
    this.problems.resolved(key);
    const vlanProblem = 'reason' in vlanChoice ? { reason: vlanChoice.reason, message: vlanChoice.message } : undefined;
    if ('evict' in vlanChoice && vlanChoice.evict) this.deps.requeue?.(vlanChoice.evict);
    if (vlanProblem && this.onSwitch && definition.owner.vlan === undefined) {
      // An OVS port without a tag would be a trunk that sees every slice: never attach one.
      const input = this.statusInput(key, vm, observed);
      input.vlanProblem = vlanProblem;
      input.pending = true;
      await this.writeStatus(key, vm, input);
      return { requeueAfterMs: 30_000 };
    }

    const restartRequest = vm.metadata.annotations?.[RESTARTED_AT_ANNOTATION];
    // The request last handled: the domain's metadata remembers it too, so a lost state store
    // does not restart the guest again for a request already served.
    const handled = previous?.restartedAt ?? observed?.owner?.restartedAt;
    const restartRequested = restartRequest !== undefined && restartRequest !== handled && !this.stopping.has(key);
    const restartedAt = restartRequested ? restartRequest : handled;
    if (restartedAt !== undefined) definition.owner.restartedAt = restartedAt;
    // Whether the guest ever ran: the domain's metadata remembers it even if status was lost.
    const ranBefore = (previous?.startedOnce ?? false) || observed?.owner?.startedOnce === true || (observed !== undefined && isActive(observed.state));
    definition.owner.startedOnce = ranBefore;
    const plan = planVirtualMachine({
      restartRequested,
      runStrategy: vm.spec.runStrategy,
      desired: {
        facts: factsOf(definition), specHash: definition.owner.specHash, generation: vm.metadata.generation,
        // Only the strategies that read it redefine a domain just to write it down.
        controller: definition.owner.controller, startedOnce: ranBefore && remembersStart(vm.spec.runStrategy),
        ...(restartedAt !== undefined ? { restartedAt } : {}),
        ...(definition.owner.vlan !== undefined ? { vlan: definition.owner.vlan } : {}),
      },
      ...(observed ? { observed } : {}),
      ...(this.stopping.has(key) ? { stopping: this.stopping.get(key)! } : {}),
      startedOnce: ranBefore,
      nowMs: this.now(),
      shutdownTimeoutMs: this.deps.shutdownTimeoutMs,
    });
    if (plan.recordsStart) definition.owner.startedOnce = true;

    let startedOnce = ranBefore;
    let restarts = previous?.restarts ?? 0;
    // A restart is a start after the guest was last seen up (it stopped or crashed, or was taken
    // down to apply a change); starting a stopped guest the user asked for (Halted → Always) is not.
    const wasUp = previous?.domain !== undefined && isActive(previous.domain.state as DomainState);
    let failure: unknown;
    try {
      for (const action of plan.actions) {
        await act(this.deps, key, action, domainName, definition, diskImages, observed);
        if (action.type === 'start') {
          if (startedOnce && wasUp) restarts++;
          startedOnce = true;
          this.startFailures.delete(key);
        }
      }
    } catch (err) {
      failure = err;
      if (err instanceof HypervisorUnavailableError) throw err; // status stays as it was
      if (plan.actions.some((a) => a.type === 'start')) this.startFailures.set(key, (this.startFailures.get(key) ?? 0) + 1);
      this.deps.events.record(key, 'Warning', 'ReconcileError', errorMessage(err));
      if (plan.recordsStart && !startedOnce) await this.unrecordStart(domainName, definition);
    }
    this.rememberStopping(key, plan);

    const after = plan.actions.length ? observe(await this.deps.hypervisor.getDomain(domainName)) : observed;
    this.activity.note(domainName, after);
    let port: { slice?: SlicePath } | undefined;
    if (!failure && this.onSwitch && definition.owner.vlan !== undefined) {
      try {
        if (after && isActive(after.state)) port = await this.ports.sync(key, vm, domainName, definition.owner.vlan, previous?.allocations.vlan);
        else await this.ports.dropSlicePath(domainName, definition.owner.vlan);
        // The port carries the new VLAN (or the guest is off): the old one may go to others now.
        if (!after || !isActive(after.state) || port) await this.ports.settleVlans(key, vm.metadata.uid);
      } catch (err) {
        // The switch is away (restarting): the port's status stays as it was, so its stations stay bound.
        if (err instanceof DatapathUnavailableError) throw err;
        failure = err;
      }
    }
    // No switch port carries a VLAN: one the VM moved away from is free at once.
    if (!failure && !this.onSwitch) await this.ports.settleVlans(key, vm.metadata.uid);
    const input = this.statusInput(key, vm, after, failure ? { reason: 'ReconcileError', message: errorMessage(failure), terminal: false } : undefined);
    // A restart request counts as handled once the guest is on its way down (or was not running).
    if (restartRequested && !failure) {
      input.restartedAt = restartRequest;
      if (plan.stopping) this.deps.events.record(key, 'Normal', 'RestartRequested', `restarting domain ${domainName} as asked at ${restartRequest}`);
    }
    if (vlanProblem) input.vlanProblem = vlanProblem;
    if (port) input.port = { name: vmPortName(domainName), ...(port.slice ? { slice: port.slice } : {}) };
    input.startedOnce = startedOnce || after?.state === 'running';
    input.restarts = restarts;
    input.restartRequired = plan.restartRequired;
    const wait = this.stopWait(key, domainName, plan, after);
    if (wait) input.stopWait = wait;
    await this.writeStatus(key, vm, input);
    if (failure) throw failure;
    if (plan.restartRequired.length && previous?.conditions.every((c) => c.type !== 'RestartRequired')) {
      this.deps.events.record(key, 'Warning', 'RestartRequired', `${plan.restartRequired.join(', ')} changed while running; restart the guest to apply`);
    }
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : {};
  }

  /**
   * The first start was written into the definition and then failed: take it back, or a Once or
   * RerunOnFailure guest that never ran would never be started. Best effort: if this fails too,
   * the next reconcile's define (the metadata differs from what it wants) puts it right.
   */
  private async unrecordStart(domainName: string, definition: DomainDefinition): Promise<void> {
    try {
      await this.deps.hypervisor.define(buildDomainXml({ ...definition, owner: { ...definition.owner, startedOnce: false } }));
    } catch (err) {
      this.deps.logger.warn(`could not take back the recorded first start of ${domainName}`, { error: errorMessage(err) });
    }
  }

  /** The resource is gone: stop the guest (gracefully, then by force), undefine, clean up. */
  private async remove(key: ResourceKey, domainName: string, observed: Observed | undefined, permit: DeletionPermit): Promise<ReconcileResult> {
    const stored = this.deps.statuses.get(key);
    const plan = planVirtualMachine({
      ...(observed ? { observed } : {}),
      ...(this.stopping.has(key) ? { stopping: this.stopping.get(key)! } : {}),
      startedOnce: false,
      nowMs: this.now(),
      shutdownTimeoutMs: this.deps.shutdownTimeoutMs,
    });
    let overlaysRemoved = false;
    for (const action of plan.actions) {
      // Overlays go before the domain: a controller killed in between leaves a domain, which the
      // next start finds and deletes again, never overlays that nothing names any more.
      if (action.type === 'undefine') {
        await this.deps.disks.removeOverlays(domainName, permit);
        overlaysRemoved = true;
      }
      await act(this.deps, key, action, domainName, undefined, [], observed, permit);
    }
    this.rememberStopping(key, plan);
    this.activity.note(domainName, plan.stopping ? observed : undefined);
    this.stopWait(key, domainName, plan, observed);
    if (plan.stopping) {
      if (stored?.status && stored.status.printableStatus !== 'Terminating') {
        await this.deps.statuses.write(key, { ...stored, status: { ...stored.status, printableStatus: 'Terminating' } });
      }
      return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : {};
    }
    if (!overlaysRemoved) await this.deps.disks.removeOverlays(domainName, permit);
    const vlan = this.deps.vlans.get(key);
    if (vlan !== undefined) await this.ports.dropSlicePath(domainName, vlan);
    await this.ports.releaseVlans(key, observed?.owner?.uid ?? stored?.metadata.uid);
    this.deps.macs.release(key);
    this.startFailures.delete(key);
    this.problems.resolved(key);
    this.deps.gate.settled(key);
    await this.deps.statuses.remove(key);
    this.deps.onStatusChange?.(key);
    if (observed) this.deps.events.record(key, 'Normal', 'Deleted', `domain ${domainName} undefined and its overlays removed`);
    this.deps.logger.info('deleted', { key, domain: domainName });
    return {};
  }

  private get onSwitch(): boolean {
    return this.deps.nic.type === 'bridge' && this.deps.nic.openvswitch && this.deps.datapath !== undefined;
  }

  /**
   * The resource is being deleted but libvirt cannot be reached: the domain may still run, so
   * the cleanup (and, in Kubernetes, the object with its finalizer) waits, and says why.
   */
  private async reportBlockedCleanup(key: ResourceKey, err: Error): Promise<void> {
    const stored = this.deps.statuses.get(key);
    const status = stored?.status as VirtualMachineStatus | undefined;
    if (!stored || !status) return;
    const now = new Date(this.now()).toISOString();
    const conditions = setCondition(status.conditions, {
      type: 'Ready', status: 'False', reason: 'CleanupBlocked', observedGeneration: status.observedGeneration,
      message: `the domain cannot be removed until libvirt is reachable again: ${err.message}`,
    }, now);
    if (status.printableStatus === 'Terminating' && JSON.stringify(conditions) === JSON.stringify(status.conditions)) return;
    await this.deps.statuses.write(key, { ...stored, status: { ...status, printableStatus: 'Terminating', conditions } });
  }

  /** The resource is gone and no domain of its own is left: drop what we kept about it. */
  private async forgetResource(key: ResourceKey): Promise<ReconcileResult> {
    this.deps.gate.settled(key);
    this.problems.resolved(key);
    await this.ports.releaseVlans(key, this.deps.statuses.get(key)?.metadata.uid);
    this.deps.macs.release(key);
    this.startFailures.delete(key);
    this.stopping.delete(key);
    if (this.deps.statuses.get(key)) await this.deps.statuses.remove(key);
    return {};
  }

  /** What the stop waits for, if any; said in the log once per stop when the guest has not acted on the request. */
  private stopWait(key: ResourceKey, domainName: string, plan: Plan, after: Observed | undefined): string | undefined {
    const justAsked = plan.actions.some((a) => a.type === 'shutdown');
    const wait = describeStopWait(domainName, plan.stopping, after?.state, justAsked, this.deps.shutdownTimeoutMs);
    if (wait?.ignored && this.stopWaitSaid.get(key) !== plan.stopping!.sinceMs) {
      this.stopWaitSaid.set(key, plan.stopping!.sinceMs);
      this.deps.logger.info(wait.message, { key });
    }
    if (!plan.stopping) this.stopWaitSaid.delete(key);
    return wait?.message;
  }

  private rememberStopping(key: ResourceKey, plan: Plan): void {
    if (plan.stopping) this.stopping.set(key, plan.stopping);
    else this.stopping.delete(key);
  }

  private previousStatus(key: ResourceKey): VirtualMachineStatus | undefined {
    return this.deps.statuses.get(key)?.status as VirtualMachineStatus | undefined;
  }

  private statusInput(key: ResourceKey, vm: VirtualMachine, observed: Observed | undefined, error?: StatusInput['error']): StatusInput {
    const stopping = this.stopping.get(key);
    const progress = { ...(stopping ? { stopping } : {}), startFailures: this.startFailures.get(key) ?? 0 };
    return statusInputFor({ ...this.deps, now: this.now }, key, vm, observed, progress, error);
  }

  private async writeStatus(key: ResourceKey, vm: VirtualMachine, input: StatusInput): Promise<void> {
    await writeVmStatus({ ...this.deps, now: this.now }, key, vm, input);
  }
}
