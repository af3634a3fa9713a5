// The running VM's switch port carries its VLAN and its slice's rates; a stopped VM's slice
// rates go. The VLANs a VM moved away from are given back once its port moved (or it has none).
import { DatapathUnavailableError } from '../../../ports/datapath.js';
import { vmPortName } from '../domain-xml.js';
import { isActive } from '../plan.js';
import type { VmStep } from './step.js';

export const switchPortStep: VmStep = {
  name: 'switch-port',
  async run(ctx, deps) {
    if (ctx.failure) return;
    const { key, vm, domainName, domain: after } = ctx;
    const vlan = ctx.definition?.owner.vlan;
    // No switch port carries a VLAN: one the VM moved away from is free at once.
    if (!deps.onSwitch) return deps.ports.settleVlans(key, vm.metadata.uid);
    if (vlan === undefined) return;
    try {
      let port: Awaited<ReturnType<typeof deps.ports.sync>>;
      if (after && isActive(after.state)) port = await deps.ports.sync(key, vm, domainName, vlan, ctx.previous?.allocations.vlan);
      else await deps.ports.dropSlicePath(domainName, vlan);
      // The port carries the new VLAN (or the guest is off): the old one may go to others now.
      if (!after || !isActive(after.state) || port) await deps.ports.settleVlans(key, vm.metadata.uid);
      if (port) ctx.status.port = { name: vmPortName(domainName), ...(port.slice ? { slice: port.slice } : {}) };
    } catch (err) {
      // The switch is away (restarting): the port's status stays as it was, so its stations stay bound.
      if (err instanceof DatapathUnavailableError) throw err;
      ctx.failure = err;
    }
  },
};
