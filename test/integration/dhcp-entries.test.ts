// The DHCP host entry of a pooled address on libvirt's test driver, through the real binding and
// the Hypervisor port: added live, left alone when in place, changed when the address changes,
// refused when another MAC has the address, removed when the VM goes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { silentLogger } from '../../src/core/logger.js';
import { DhcpEntries } from '../../src/pools/dhcp-entries.js';
import { readNetworkDhcp } from '../../src/pools/dhcp-host.js';

describe('DHCP host entries on test:///default', () => {
  const hypervisor = new LibvirtHypervisor({ uri: 'test:///default', logger: silentLogger });
  const entries = new DhcpEntries(hypervisor);
  const hosts = async () => readNetworkDhcp((await hypervisor.getNetwork('default'))!.xml).hosts;

  beforeAll(async () => {
    await hypervisor.connect();
  });
  afterAll(async () => hypervisor.close());

  it('adds, keeps, changes and removes the entry of one MAC; another MAC\'s address is a conflict', async () => {
    const dhcp = readNetworkDhcp((await hypervisor.getNetwork('default'))!.xml);
    expect(dhcp.subnets.length).toBe(1);
    const base = dhcp.subnets[0]!.network;
    const ip = (n: number) => [24, 16, 8, 0].map((s) => Math.floor((base + n) / 2 ** s) % 256).join('.');
    const mac = '52:54:00:77:00:01';
    expect(await entries.ensure('default', { mac, ip: ip(40), name: 'pub40' })).toBe('changed');
    expect(await hosts()).toContainEqual({ mac, ip: ip(40), name: 'pub40' });
    expect(await entries.ensure('default', { mac, ip: ip(40), name: 'pub40' })).toBe('in-place');
    expect(await entries.ensure('default', { mac, ip: ip(41), name: 'pub40' })).toBe('changed');
    expect((await hosts()).filter((h) => h.mac === mac)).toEqual([{ mac, ip: ip(41), name: 'pub40' }]);
    expect(await entries.ensure('default', { mac: '52:54:00:77:00:02', ip: ip(41) })).toEqual({ problem: 'conflict', message: `libvirt network default already gives ${ip(41)} to MAC ${mac} (pub40)` });
    expect(await entries.ensure('default', { mac: '52:54:00:77:00:02', ip: '203.0.113.9' })).toMatchObject({ problem: 'outside' });
    expect(await entries.ensure('nope-network', { mac, ip: ip(41) })).toEqual({ problem: 'no-network', message: 'libvirt network nope-network does not exist' });
    expect(await entries.remove('default', mac)).toBe(1);
    expect((await hosts()).filter((h) => h.mac === mac)).toEqual([]);
  });
});
