// Slot for the hosts area (issue 11): where the VM runs. Does nothing yet.
import type { VmStep } from './step.js';

export const placementStep: VmStep = { name: 'placement', run: () => undefined };
