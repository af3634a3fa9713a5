// A Hypervisor that stops answering: the VMs placed on it are reported Unknown (as Kubernetes'
// node lifecycle controller marks the pods of a NotReady node), since nothing can be observed of
// them; they are never recreated elsewhere (two copies of a guest are worse than none). Their
// reconciles fail meanwhile (the host is unavailable) and write nothing; once the host answers,
// they look again and write what they see.
import { setCondition } from '../api/meta.js';
import type { VirtualMachineStatus } from '../api/virtual-machine.js';

/** printableStatus values left as they are: nothing placed or nothing to lose sight of. */
const KEPT = new Set(['Pending', 'Unknown']);

export function unknownStatus(previous: VirtualMachineStatus, host: string, why: string, now: string): VirtualMachineStatus | undefined {
  if (KEPT.has(previous.printableStatus)) return undefined;
  return {
    ...previous,
    printableStatus: 'Unknown',
    conditions: setCondition(previous.conditions, {
      type: 'Ready', status: 'Unknown', reason: 'HypervisorNotReady', observedGeneration: previous.observedGeneration,
      message: `hypervisor ${host} is not Ready (${why}); the VM is not recreated elsewhere`,
    }, now),
  };
}
