// Slot for the live area: changes applied to the running domain (balloon, vCPUs, hot-plug).
// Does nothing yet.
import type { VmStep } from './step.js';

export const liveStep: VmStep = { name: 'live', run: () => undefined };
