// `wimaxvm get hypervisors` (hv): the CRD's printer columns (crds/hypervisors.wimaxvm.io.yaml);
// READY shows a cordon as kubectl shows a node's: True,SchedulingDisabled.
import type { Condition } from '../api/meta.js';
import type { Hypervisor } from '../api/hypervisor.js';
import { age } from './output.js';
import type { Columns } from './printers.js';

const none = (value: unknown) => (value === undefined || value === null || value === '' ? '<none>' : String(value));

export function hypervisorColumns(wide: boolean): Columns {
  return {
    headers: ['NAME', 'READY', 'URI', 'ALLOC-MEMORY', 'CAPACITY-MEMORY', 'ALLOC-VCPUS', 'VCPUS', 'VMS', 'AGE', ...(wide ? ['DOMAIN-TYPE', 'MESSAGE'] : [])],
    row: (hv: Hypervisor) => {
      const s = hv.status;
      const ready = (s?.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready');
      return [
        hv.metadata.name, `${ready?.status ?? 'Unknown'}${hv.spec.unschedulable ? ',SchedulingDisabled' : ''}`, hv.spec.uri,
        none(s?.allocatable?.memory), none(s?.capacity?.memory), none(s?.allocatable?.vcpus), none(s?.capacity?.vcpus), none(s?.vmCount),
        age(hv.metadata.creationTimestamp),
        ...(wide ? [none(s?.domainType), none(ready?.message)] : []),
      ];
    },
  };
}
