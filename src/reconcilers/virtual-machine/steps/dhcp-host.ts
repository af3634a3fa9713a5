// The guest really receives its address: for a NIC on a libvirt network, a fixed DHCP lease
// (MAC → address, hostname) pushed live into that network before the guest starts, and the
// address written into the domain's metadata (so a lost state store hands it to nobody else).
// Entries of other MACs are never touched; one that holds our address is DHCPConflict.
import type { DhcpEntries } from '../../../pools/dhcp-entries.js';
import { extendSpecHash } from '../desired-definition.js';
import { poolHostnames } from './ip.js';
import type { VmStep } from './step.js';

declare module './deps.js' {
  interface AreaDeps {
    /** Fixed DHCP leases in libvirt networks (absent: none are made). */
    dhcpEntries?: DhcpEntries;
  }
}

/** A DNS label: what dnsmasq takes as a host name. */
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i;

export const dhcpHostStep: VmStep = {
  name: 'dhcp-host',
  conditions: ['DHCPHostReady'],
  async run(ctx, deps) {
    const { definition, ip, mac, vm } = ctx;
    if (definition && ip !== undefined) {
      definition.owner.ip = ip;
      extendSpecHash(definition, { ip });
    }
    if (!deps.dhcpEntries || deps.nic.type !== 'network' || !mac) return;
    const network = deps.nic.source;
    if (ip === undefined) {
      // It held one before (status says so): its lease goes with it.
      if (ctx.previous?.allocations.ip !== undefined) await deps.dhcpEntries.remove(network, mac);
      return;
    }
    const hostname = [poolHostnames.get(ctx), vm.metadata.name].find((n) => n !== undefined && LABEL.test(n));
    const outcome = await deps.dhcpEntries.ensure(network, { mac, ip, ...(hostname ? { name: hostname } : {}) });
    if (outcome === 'changed') deps.events.record(ctx.key, 'Normal', 'DHCPHostAdded', `libvirt network ${network} gives ${ip} to ${mac}`);
    if (typeof outcome === 'string') {
      ctx.setCondition({ type: 'DHCPHostReady', status: 'True', reason: 'InPlace', message: `libvirt network ${network} gives ${ip} to ${mac}` });
      return;
    }
    ctx.setCondition({ type: 'DHCPHostReady', status: 'False', reason: outcome.problem === 'conflict' ? 'DHCPConflict' : 'DHCPUnavailable', message: outcome.message });
    // Started now, the guest's DHCP client would get another address than its own.
    if (outcome.problem === 'conflict' && !ctx.observed) {
      ctx.status.pending = true;
      return { stop: true, requeueAfterMs: 30_000 };
    }
  },
};
