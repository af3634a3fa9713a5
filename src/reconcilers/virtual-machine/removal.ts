// A VirtualMachine that is gone: its domain is stopped (gracefully, then by force) and undefined
// with the deletion gate's permit only, its overlays, switch port and allocations go. Also what
// is forgotten of a resource whose domain is not ours, and why a cleanup waits for libvirt.
import { setCondition, type ResourceKey } from '../../api/meta.js';
import type { VirtualMachineStatus } from '../../api/virtual-machine.js';
import type { DeletionGate, DeletionPermit } from '../../core/deletion-gate.js';
import type { ReconcileResult } from '../../core/result.js';
import { act } from './domain-actions.js';
import type { Observed } from './observe.js';
import { planVirtualMachine } from './plan.js';
import type { StepDeps } from './steps/deps.js';
import { rememberStopping, stopWait } from './steps/stopping.js';
import { releaseAddress } from '../../pools/release-address.js';

export interface RemovalDeps extends StepDeps {
  gate: DeletionGate;
}

/** The resource is gone: stop the guest (gracefully, then by force), undefine, clean up. */
export async function removeVm(deps: RemovalDeps, key: ResourceKey, domainName: string, observed: Observed | undefined, permit: DeletionPermit): Promise<ReconcileResult> {
  const stored = deps.statuses.get(key);
  const stopping = deps.memory.stopping.get(key);
  const plan = planVirtualMachine({
    ...(observed ? { observed } : {}),
    ...(stopping ? { stopping } : {}),
    startedOnce: false,
    nowMs: deps.now(),
    shutdownTimeoutMs: deps.shutdownTimeoutMs,
  });
  let overlaysRemoved = false;
  for (const action of plan.actions) {
    // Overlays go before the domain: a controller killed in between leaves a domain, which the
    // next start finds and deletes again, never overlays that nothing names any more.
    if (action.type === 'undefine') {
      await deps.disks.removeOverlays(domainName, permit);
      overlaysRemoved = true;
    }
    await act(deps, key, action, domainName, undefined, [], observed, permit);
  }
  rememberStopping(deps, key, plan);
  deps.memory.activity.note(domainName, plan.stopping ? observed : undefined);
  stopWait(deps, key, domainName, plan, observed);
  if (plan.stopping) {
    if (stored?.status && stored.status.printableStatus !== 'Terminating') {
      await deps.statuses.write(key, { ...stored, status: { ...stored.status, printableStatus: 'Terminating' } });
    }
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : {};
  }
  if (!overlaysRemoved) await deps.disks.removeOverlays(domainName, permit);
  const vlan = deps.vlans.get(key);
  if (vlan !== undefined) await deps.ports.dropSlicePath(domainName, vlan);
  await deps.ports.releaseVlans(key, observed?.owner?.uid ?? stored?.metadata.uid);
  await releaseAddress(deps, key, observed?.owner?.uid ?? stored?.metadata.uid, observed?.owner?.mac ?? (stored?.status as VirtualMachineStatus | undefined)?.allocations.mac);
  forgetAllocations(deps, key);
  deps.gate.settled(key);
  await deps.statuses.remove(key);
  deps.onStatusChange?.(key);
  if (observed) deps.events.record(key, 'Normal', 'Deleted', `domain ${domainName} undefined and its overlays removed`);
  deps.logger.info('deleted', { key, domain: domainName });
  return {};
}

/** The resource is gone and no domain of its own is left: drop what we kept about it. */
export async function forgetResource(deps: RemovalDeps, key: ResourceKey): Promise<ReconcileResult> {
  deps.gate.settled(key);
  await deps.ports.releaseVlans(key, deps.statuses.get(key)?.metadata.uid);
  // The domain is another's: its DHCP lease (same MAC) is not ours to remove, the claim is.
  await releaseAddress({ ...deps, nic: { type: 'user' } }, undefined, deps.statuses.get(key)?.metadata.uid, undefined);
  forgetAllocations(deps, key);
  deps.memory.stopping.delete(key);
  if (deps.statuses.get(key)) await deps.statuses.remove(key);
  return {};
}

/**
 * The VM moved to another node's controller (Kubernetes DaemonSet mode) and no domain of it is
 * left here: this node forgets it, deleting nothing. Its testbed-wide claims (VLAN, address) and
 * its status follow it to the new node: they are not released here; only this switch's slice
 * path of its VLAN goes.
 */
export async function letGo(deps: RemovalDeps, key: ResourceKey, domainName: string, toNode: string): Promise<ReconcileResult> {
  const vlan = deps.vlans.get(key);
  if (vlan !== undefined) await deps.ports.dropSlicePath(domainName, vlan);
  deps.vlans.release(key);
  forgetAllocations(deps, key);
  deps.memory.stopping.delete(key);
  deps.memory.activity.note(domainName, undefined);
  deps.placement?.clearMigration?.(domainName); // its move is over: the new node has it
  deps.gate.settled(key);
  deps.logger.info(`handed over to node ${toNode}`, { key, domain: domainName });
  return {};
}

function forgetAllocations(deps: RemovalDeps, key: ResourceKey): void {
  deps.macs.release(key);
  deps.memory.startFailures.delete(key);
  deps.problems.resolved(key);
}

/**
 * The resource is being deleted but libvirt cannot be reached: the domain may still run, so
 * the cleanup (and, in Kubernetes, the object with its finalizer) waits, and says why.
 */
export async function reportBlockedCleanup(deps: RemovalDeps, key: ResourceKey, err: Error): Promise<void> {
  const stored = deps.statuses.get(key);
  const status = stored?.status as VirtualMachineStatus | undefined;
  if (!stored || !status) return;
  const now = new Date(deps.now()).toISOString();
  const conditions = setCondition(status.conditions, {
    type: 'Ready', status: 'False', reason: 'CleanupBlocked', observedGeneration: status.observedGeneration,
    message: `the domain cannot be removed until libvirt is reachable again: ${err.message}`,
  }, now);
  if (status.printableStatus === 'Terminating' && JSON.stringify(conditions) === JSON.stringify(status.conditions)) return;
  await deps.statuses.write(key, { ...stored, status: { ...status, printableStatus: 'Terminating', conditions } });
}
