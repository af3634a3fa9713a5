// Slot for the seed area: the cloud-init NoCloud seed image, added to the definition as a CD-ROM.
// Does nothing yet.
import type { VmStep } from './step.js';

export const seedStep: VmStep = { name: 'seed', run: () => undefined };
