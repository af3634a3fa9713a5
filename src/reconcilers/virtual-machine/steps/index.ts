// A VirtualMachine's reconcile, in order. Each step is one module with one job and owns its
// conditions; any step may stop the reconcile (status is still written by run.ts). A new step
// is a module exporting a VmStep (step.ts), placed here once what it reads is ready.
import { definitionStep } from './definition.js';
import { disksStep } from './disks.js';
import { ipStep } from './ip.js';
import { leaseStep } from './lease.js';
import { liveStep } from './live.js';
import { macStep } from './mac.js';
import { placementStep } from './placement.js';
import { powerStep } from './power.js';
import { seedStep } from './seed.js';
import { specCheckStep } from './spec-check.js';
import type { VmStep } from './step.js';
import { switchPortStep } from './switch-port.js';
import { vlanStep } from './vlan.js';

export const VM_STEPS: readonly VmStep[] = [
  specCheckStep, //  spec errors only the user can fix, before anything is claimed
  placementStep, //  (hosts) where it runs
  macStep, //        allocations: MAC
  disksStep, //      the disks' images (a missing one ties up no VLAN or address)
  vlanStep, //       allocations: VLAN (none on the switch: Pending)
  ipStep, //         (pools) allocations: address from the pool (dry: Pending)
  definitionStep, // the definition the domain must have
  seedStep, //       (seed) cloud-init CD-ROM added to the definition
  leaseStep, //      (leases) an expired lease overrides the power wish
  powerStep, //      define, start, stop, pause, save: plan.ts decides
  liveStep, //       (live) changes applied to the running domain
  switchPortStep, // the port's VLAN tag and slice rates
];
