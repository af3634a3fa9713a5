// Slot for the leases area: the lease's expiry overrides the power wish (ctx.power) and claims
// the printableStatus Expired. Does nothing yet.
import type { VmStep } from './step.js';

export const leaseStep: VmStep = { name: 'lease', run: () => undefined };
