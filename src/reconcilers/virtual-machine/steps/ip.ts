// Slot for the pools area: the VM's address from its IP pool (status.allocations.ip); a dry pool
// stops the reconcile as Pending. Does nothing yet.
import type { VmStep } from './step.js';

export const ipStep: VmStep = { name: 'ip', run: () => undefined };
