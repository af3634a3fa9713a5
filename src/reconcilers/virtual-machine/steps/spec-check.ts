// Spec errors only the user can fix (a name too long for libvirt, a memory size that cannot be
// read), found before anything is claimed for the VM.
import { checkSpec } from '../desired-definition.js';
import type { VmStep } from './step.js';

export const specCheckStep: VmStep = {
  name: 'spec-check',
  run(ctx) {
    checkSpec(ctx.vm, ctx.domainName);
  },
};
