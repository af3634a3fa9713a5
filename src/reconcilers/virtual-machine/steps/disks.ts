// The disks' base images, resolved before a VLAN or address is taken: a VM whose image is
// missing cannot run, so it must not tie one up while it waits for the user.
import { resolveDiskImages } from '../desired-definition.js';
import type { VmStep } from './step.js';

export const disksStep: VmStep = {
  name: 'disks',
  async run(ctx, deps) {
    ctx.diskImages = await resolveDiskImages(deps.disks, ctx.vm);
  },
};
