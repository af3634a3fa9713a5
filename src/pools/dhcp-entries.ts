// Puts a VM's fixed DHCP lease into the libvirt network its NIC is on, and takes it out when the
// VM goes, through the Hypervisor port (virNetworkUpdate, live: no network restart, no guest
// notices). A persistent network keeps the entry in its definition too; a transient one has
// none, so there it is live only.
import { HypervisorInvalidOperationError, type DhcpHost, type Hypervisor } from '../ports/hypervisor.js';
import { dhcpHostsOf, planDhcpHost, readNetworkDhcp } from './dhcp-host.js';

export type DhcpOutcome = 'in-place' | 'changed' | { problem: 'conflict' | 'outside' | 'no-network'; message: string };

export class DhcpEntries {
  constructor(private readonly hypervisor: Pick<Hypervisor, 'getNetwork' | 'updateDhcpHost'>) {}

  async ensure(network: string, wanted: DhcpHost): Promise<DhcpOutcome> {
    const info = await this.hypervisor.getNetwork(network);
    if (!info?.active) return { problem: 'no-network', message: `libvirt network ${network} ${info ? 'is not active' : 'does not exist'}` };
    const plan = planDhcpHost(network, readNetworkDhcp(info.xml), wanted);
    if (plan.kind === 'in-place') return 'in-place';
    if (plan.kind !== 'change') return { problem: plan.kind, message: plan.message };
    for (const stale of plan.remove) await this.update(network, 'delete', stale);
    await this.update(network, 'add', plan.add);
    return 'changed';
  }

  /** Removes every entry of `mac` (a no-op when the network or the entry is gone). */
  async remove(network: string, mac: string): Promise<number> {
    const info = await this.hypervisor.getNetwork(network);
    if (!info?.active) return 0;
    const ours = dhcpHostsOf(readNetworkDhcp(info.xml), mac);
    for (const host of ours) await this.update(network, 'delete', host);
    return ours.length;
  }

  private async update(network: string, change: 'add' | 'delete', host: DhcpHost): Promise<void> {
    try {
      await this.hypervisor.updateDhcpHost(network, change, host, { live: true, config: true });
    } catch (err) {
      // "cannot change persistent config of a transient network": it has only the live one.
      if (!(err instanceof HypervisorInvalidOperationError)) throw err;
      await this.hypervisor.updateDhcpHost(network, change, host, { live: true });
    }
  }
}
