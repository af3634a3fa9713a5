// Reconciles one VirtualMachine: observe its domain; if the resource is gone, remove the domain
// through the deletion gate (removal.ts); if the domain is not ours, leave it alone; otherwise
// run the steps (steps/index.ts), which write status once at the end.
import { parseResourceKey, type ResourceKey } from '../../api/meta.js';
import { domainNameFor, VM_KIND, type VirtualMachine, type VirtualMachineStatus } from '../../api/virtual-machine.js';
import type { MacAllocator } from '../../allocators/mac-allocator.js';
import type { VlanAllocator } from '../../allocators/vlan-allocator.js';
import { InProcessVlanClaims } from '../../adapters/in-process-vlan-claims.js';
import type { DeletionGate } from '../../core/deletion-gate.js';
import type { DesiredStore } from '../../core/desired-store.js';
import type { Logger } from '../../core/logger.js';
import type { ReconcileResult, Reconciler } from '../../core/result.js';
import type { Datapath } from '../../ports/datapath.js';
import type { DiskImages } from '../../ports/disk-images.js';
import type { EventRecorder } from '../../ports/event-recorder.js';
import { HypervisorUnavailableError, type DomainState, type Hypervisor } from '../../ports/hypervisor.js';
import type { StatusStore } from '../../ports/status-store.js';
import type { VlanClaims } from '../../ports/vlan-claims.js';
import { ProblemReporter } from '../problem-reporter.js';
import { DomainActivity } from './domain-activity.js';
import type { NicAttachment } from './domain-xml.js';
import { observe } from './observe.js';
import { notOurs, type Identity } from './ownership.js';
import type { Stopping } from './plan.js';
import { errorMessage } from '../../core/logger.js';
import { forgetResource, letGo, removeVm, reportBlockedCleanup, type RemovalDeps } from './removal.js';
import { statusInputFor, writeVmStatus } from './status-writer.js';
import { SwitchPorts } from './switch-port.js';
import type { AreaDeps } from './steps/deps.js';
import { VM_STEPS } from './steps/index.js';
import { newVmContext, runSteps } from './steps/run.js';

export { domainUuidFor } from './desired-definition.js';

/** How soon a deletion the gate withheld is looked at again (a resync also brings it back). */
const WITHHELD_RECHECK_MS = 15_000;
/** How soon a VM whose domain name is taken by a domain not ours is looked at again. */
const NOT_OURS_RECHECK_MS = 60_000;

export interface VirtualMachineReconcilerDeps extends AreaDeps {
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

/** What the steps get: the reconciler's deps, with what it keeps between reconciles. */
export function stepDepsFor(deps: VirtualMachineReconcilerDeps, activity = new DomainActivity()): RemovalDeps & { gate: DeletionGate } {
  const vlanClaims = deps.vlanClaims ?? new InProcessVlanClaims();
  return {
    ...deps, vlanClaims, now: deps.now ?? Date.now,
    onSwitch: deps.nic.type === 'bridge' && deps.nic.openvswitch && deps.datapath !== undefined,
    problems: new ProblemReporter(deps),
    ports: new SwitchPorts({ ...deps, vlanClaims }),
    memory: { stopping: new Map(), startFailures: new Map(), stopWaitSaid: new Map(), activity },
  };
}

export class VirtualMachineReconciler implements Reconciler {
  readonly kind = VM_KIND;
  private readonly activity = new DomainActivity();
  private readonly deps: RemovalDeps & { gate: DeletionGate };

  constructor(deps: VirtualMachineReconcilerDeps) {
    this.deps = stepDepsFor(deps, this.activity);
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
      return await this.reconcileDomain(key, domainName);
    } finally {
      this.activity.end(domainName);
    }
  }

  private async reconcileDomain(key: ResourceKey, domainName: string): Promise<ReconcileResult> {
    const deps = this.deps;
    const vm = deps.store.get<VirtualMachine>(key);
    const owned = (o: ReturnType<typeof observe>, declared: boolean) => o && notOurs(o.owner, key, domainName, deps.identity, declared);
    let observed: ReturnType<typeof observe>;
    try {
      observed = observe(await deps.hypervisor.getDomain(domainName));
    } catch (err) {
      if (!vm && err instanceof HypervisorUnavailableError) await reportBlockedCleanup(deps, key, err);
      throw err;
    }
    const foreign = owned(observed, vm !== undefined);
    if (foreign) {
      if (!vm) return forgetResource(deps, key); // the domain is not ours: never touched
      deps.problems.report(key, foreign.reason, foreign.message);
      const input = statusInputFor(deps, key, vm, undefined, this.progress(key), { ...foreign, terminal: true });
      await writeVmStatus(deps, key, vm, input);
      return { requeueAfterMs: NOT_OURS_RECHECK_MS };
    }
    if (!vm) return this.removeGone(key, domainName, observed);
    deps.gate.settled(key);
    // Declared again while it was being stopped for deletion: that stop is no longer wanted.
    if (deps.memory.stopping.get(key)?.intent === 'delete') deps.memory.stopping.delete(key);
    const previous = deps.statuses.get(key)?.status as VirtualMachineStatus | undefined;
    return runSteps(VM_STEPS, newVmContext(key, vm, domainName, observed, previous), deps);
  }

  /** The resource is gone: its domain goes, once libvirt itself says what is there and the gate permits it. */
  private async removeGone(key: ResourceKey, domainName: string, observed: ReturnType<typeof observe>): Promise<ReconcileResult> {
    const deps = this.deps;
    try {
      // Deleting: "absent" must come from libvirt itself, not from what the adapter remembers.
      const confirmed = observed ?? observe(await deps.hypervisor.getDomain(domainName, true));
      if (confirmed && notOurs(confirmed.owner, key, domainName, deps.identity, false)) return await forgetResource(deps, key);
      // Handed over to another node: its old definition goes only as a move's (decideMigrated), nothing else of it is deleted.
      const movedTo = deps.gate.movedAway(key);
      if (movedTo !== undefined && confirmed && deps.placement?.removeMovedCopy) {
        try {
          await deps.placement.removeMovedCopy(key, domainName, movedTo);
        } catch (err) {
          deps.logger.warn(`the old definition of ${domainName} stays: ${errorMessage(err)}`, { key, movedTo });
          return { requeueAfterMs: WITHHELD_RECHECK_MS };
        }
        return await letGo(deps, key, domainName, movedTo);
      }
      if (!confirmed && !deps.statuses.get(key) && !deps.macs.get(key)) {
        deps.gate.settled(key);
        return {}; // nothing left of it
      }
      if (movedTo !== undefined && !confirmed) return await letGo(deps, key, domainName, movedTo);
      const decision = deps.gate.decide(key, domainName);
      if ('withheld' in decision) return { requeueAfterMs: WITHHELD_RECHECK_MS };
      return await removeVm(deps, key, domainName, confirmed, decision.permit);
    } catch (err) {
      if (err instanceof HypervisorUnavailableError) await reportBlockedCleanup(deps, key, err);
      throw err;
    }
  }

  private progress(key: ResourceKey): { stopping?: Stopping; startFailures: number } {
    const stopping = this.deps.memory.stopping.get(key);
    return { ...(stopping ? { stopping } : {}), startFailures: this.deps.memory.startFailures.get(key) ?? 0 };
  }
}
