// The pools area's steps (ip, dhcp-host) over the steps harness's fakes: what they put in status,
// the DHCP host entry they make, and when they stop the reconcile.
import { describe, expect, it } from 'vitest';
import { InProcessIpClaims } from '../../src/adapters/in-process-ip-claims.js';
import { findCondition } from '../../src/api/meta.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { DhcpEntries } from '../../src/pools/dhcp-entries.js';
import { IpAllocator } from '../../src/pools/ip-allocation.js';
import { VM_STEPS } from '../../src/reconcilers/virtual-machine/steps/index.js';
import { FakeHypervisor } from '../fakes/fake-hypervisor.js';
import { stepHarness, vmNamed } from '../helpers/vm-steps.js';

function harness(poolSpec: Record<string, unknown> = { cidr: '192.168.122.0/24', ranges: ['192.168.122.30-192.168.122.31'] }) {
  const store = new DesiredStore();
  store.set('IPPool/default/lab', { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'IPPool', metadata: { name: 'lab', namespace: 'default', uid: 'p', generation: 1, creationTimestamp: '' }, spec: poolSpec });
  const hv = new FakeHypervisor();
  hv.addNetwork('lab-net');
  const claims = new InProcessIpClaims();
  const h = stepHarness({ store, hypervisor: hv, nic: { type: 'network', source: 'lab-net' }, ipAllocator: new IpAllocator({ store, ipClaims: claims }), dhcpEntries: new DhcpEntries(hv) });
  return { h, hv, claims };
}

describe('the ip and dhcp-host steps', () => {
  it('a VM naming a pool: its address in status and in the domain\'s metadata, and its DHCP host entry before it starts', async () => {
    const { h, hv } = harness();
    const out = await h.run(VM_STEPS, vmNamed('ps-a', { network: { ipPool: 'lab' } }));
    expect(out.status?.allocations.ip).toBe('192.168.122.30');
    expect(findCondition(out.status!.conditions, 'IPAssigned')).toMatchObject({ status: 'True', reason: 'Allocated', message: '192.168.122.30 from IPPool lab' });
    expect(findCondition(out.status!.conditions, 'DHCPHostReady')).toEqual(expect.objectContaining({ status: 'True' }));
    expect(hv.dhcpHosts('lab-net')).toEqual([{ mac: out.status!.allocations.mac, ip: '192.168.122.30', name: 'ps-a' }]);
    const ops = hv.calls.map((c) => c.op);
    expect(ops.indexOf('updateDhcpHost')).toBeLessThan(ops.indexOf('start'));
    expect((await hv.getDomain('ps-a'))!.persistentXml).toContain(`ip="192.168.122.30"`);
    // The next reconcile changes nothing in the network.
    const before = hv.calls.length;
    await h.run(VM_STEPS, vmNamed('ps-a', { network: { ipPool: 'lab' } }));
    expect(hv.calls.slice(before).filter((c) => c.op === 'updateDhcpHost')).toEqual([]);
  });

  it('a dry pool: Pending, stopped before the definition (nothing defined), looked at again in 30 s', async () => {
    const { h, hv } = harness({ cidr: '192.168.122.0/24', ranges: ['192.168.122.30'] });
    await h.run(VM_STEPS, vmNamed('ps-b', { network: { ipPool: 'lab' } }));
    const out = await h.run(VM_STEPS, vmNamed('ps-c', { network: { ipPool: 'lab' } }));
    expect(out.status?.printableStatus).toBe('Pending');
    expect(out.result).toEqual({ requeueAfterMs: 30_000 });
    expect(findCondition(out.status!.conditions, 'IPAssigned')).toMatchObject({ status: 'False', reason: 'IPPoolExhausted' });
    expect(await hv.getDomain('ps-c')).toBeUndefined();
  });

  it('another MAC\'s entry for the address in the network: DHCPConflict, a new guest is not started', async () => {
    const { h, hv } = harness();
    await hv.updateDhcpHost('lab-net', 'add', { mac: '52:54:00:99:99:99', ip: '192.168.122.30', name: 'by-hand' });
    const out = await h.run(VM_STEPS, vmNamed('ps-d', { network: { ipPool: 'lab' } }));
    expect(findCondition(out.status!.conditions, 'DHCPHostReady')).toMatchObject({ status: 'False', reason: 'DHCPConflict', message: 'libvirt network lab-net already gives 192.168.122.30 to MAC 52:54:00:99:99:99 (by-hand)' });
    expect(out.status?.printableStatus).toBe('Pending');
    expect(await hv.getDomain('ps-d')).toBeUndefined();
    expect(hv.dhcpHosts('lab-net')).toEqual([{ mac: '52:54:00:99:99:99', ip: '192.168.122.30', name: 'by-hand' }]);
  });

  it('a VM without a pool or address: no condition, no entry, no claim', async () => {
    const { h, hv, claims } = harness();
    const out = await h.run(VM_STEPS, vmNamed('ps-e'));
    expect(out.status?.allocations.ip).toBeUndefined();
    expect(out.status!.conditions.map((c) => c.type)).not.toContain('IPAssigned');
    expect(hv.dhcpHosts('lab-net')).toEqual([]);
    expect(claims.list()).toEqual([]);
  });
});
