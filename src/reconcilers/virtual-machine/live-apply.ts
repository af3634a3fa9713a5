// Carries out planned live operations on a running guest through the Hypervisor port, each on its
// own: one the guest or libvirt refuses does not keep the others from being applied. Live only:
// the persistent definition is the define's (it already holds the new spec when these run).
import { HypervisorUnavailableError, type Hypervisor } from '../../ports/hypervisor.js';
import { errorMessage } from '../../core/logger.js';
import { diskDeviceXml, extraNicDeviceXml } from './device-xml.js';
import { balloonTargetXml, LIVE_METADATA_KEY, LIVE_METADATA_NS } from './domain-xml.js';
import type { LiveOperation } from './live-changes.js';

export interface LiveApplyDeps {
  hypervisor: Hypervisor;
  /** Makes the overlay of disk `index` (a hot-plugged disk needs its file before libvirt opens it). */
  prepareDisk(index: number): Promise<void>;
}

export interface LiveApplyResult {
  applied: LiveOperation[];
  failed: { operation: LiveOperation; message: string }[];
}

const LIVE = { live: true } as const;

async function applyOne(deps: LiveApplyDeps, domainName: string, op: LiveOperation): Promise<void> {
  const hv = deps.hypervisor;
  switch (op.type) {
    case 'setMemory':
      await hv.setMemory(domainName, op.kib, LIVE);
      // The live <currentMemory> is what the balloon reached, not what was asked: remember the ask.
      await hv.setMetadata(domainName, LIVE_METADATA_NS, LIVE_METADATA_KEY, balloonTargetXml(op.kib), LIVE);
      return;
    case 'setVcpus':
      return hv.setVcpus(domainName, op.count, LIVE);
    case 'attachDisk':
      await deps.prepareDisk(op.index);
      return hv.attachDevice(domainName, diskDeviceXml(op.path, op.index), LIVE);
    case 'detachDisk':
      return hv.detachDevice(domainName, diskDeviceXml(op.path, op.index), LIVE);
    case 'attachNic':
      return hv.attachDevice(domainName, extraNicDeviceXml({ mac: op.mac, network: op.network }), LIVE);
    case 'detachNic':
      return hv.detachDevice(domainName, extraNicDeviceXml({ mac: op.mac, network: op.network }), LIVE);
  }
}

/** Applies each operation in order; a lost connection stops it all (the next reconcile plans again). */
export async function applyLiveOperations(deps: LiveApplyDeps, domainName: string, operations: LiveOperation[]): Promise<LiveApplyResult> {
  const result: LiveApplyResult = { applied: [], failed: [] };
  for (const operation of operations) {
    try {
      await applyOne(deps, domainName, operation);
      result.applied.push(operation);
    } catch (err) {
      if (err instanceof HypervisorUnavailableError) throw err;
      result.failed.push({ operation, message: errorMessage(err) });
    }
  }
  return result;
}
