// IP pools in Kubernetes mode: the real controller (test:///default, NICs on its libvirt network
// "default") against the API-server double. An IPPool and VMs applied to the cluster: each VM
// gets its own address (status through /status, a Lease per address, a DHCP host entry in the
// libvirt network), the pool's status counts them, a dry pool leaves a VM Pending, and a deleted
// VM's address, Lease and DHCP entry go and the waiting VM gets the address.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { ipClaimName } from '../../src/adapters/kube-ip-claims.js';
import { buildConfig } from '../../src/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import { readNetworkDhcp } from '../../src/pools/dhcp-host.js';
import { eventually } from '../helpers/harness.js';
import type { FakeApiServer } from './api-server.js';
import { startCluster } from './cluster-fixture.js';

const G = { group: 'wimaxvm.io', version: 'v1alpha1', namespace: 'default' };
const run = Math.random().toString(36).slice(2, 6);

describe('IP pools in Kubernetes mode', () => {
  let server: FakeApiServer;
  let api: CustomObjectsApi;
  let leases: CoordinationV1Api;
  let controller: RunningController;
  const observer = new LibvirtHypervisor({ uri: 'test:///default', logger: silentLogger });
  const name = (n: string) => `kp-${run}-${n}`;
  const vmStatus = async (n: string) => (await api.getNamespacedCustomObject({ ...G, plural: 'virtualmachines', name: name(n) })).status;
  const dhcpHosts = async () => readNetworkDhcp((await observer.getNetwork('default'))!.xml).hosts;
  const createVm = (n: string) => api.createNamespacedCustomObject({ ...G, plural: 'virtualmachines', body: {
    apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: name(n) }, spec: { memory: '64Mi', runStrategy: 'Halted', network: { ipPool: 'lab' } },
  } });

  beforeAll(async () => {
    let kubeconfig: string;
    ({ server, kubeconfig } = await startCluster());
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    leases = server.kubeConfig().makeApiClient(CoordinationV1Api);
    await observer.connect();
    const subnet = readNetworkDhcp((await observer.getNetwork('default'))!.xml).subnets[0]!;
    const base = [24, 16, 8].map((s) => Math.floor(subnet.network / 2 ** s) % 256).join('.');
    await api.createNamespacedCustomObject({ ...G, plural: 'ippools', body: {
      apiVersion: 'wimaxvm.io/v1alpha1', kind: 'IPPool', metadata: { name: 'lab' },
      spec: { cidr: `${base}.0/24`, ranges: [`${base}.200-${base}.201`], hosts: [{ ip: `${base}.201`, hostname: 'pub201' }] },
    } });
    controller = await startController(buildConfig({
      source: 'kube', kubeconfig, connect: 'test:///default', 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-kube-pools-')),
      listen: 'off', poll: '100ms', resync: '10m', 'shutdown-timeout': '1s', nic: 'network:default',
    }), silentLogger);
  });
  afterAll(async () => {
    await controller?.stop();
    await observer.close();
    await server?.stop();
  });

  it('each VM gets its own address: status, a Lease per address, a DHCP host entry; the pool counts them', async () => {
    await createVm('a');
    await createVm('b');
    const [a, b] = await eventually(async () => {
      const s = [await vmStatus('a'), await vmStatus('b')];
      return s.every((x) => x?.allocations?.ip && x.printableStatus === 'Stopped') ? s : undefined;
    }, 'both VMs with an address');
    const ips = [a.allocations.ip, b.allocations.ip];
    expect(new Set(ips).size).toBe(2);
    for (const [n, s] of [['a', a], ['b', b]] as const) {
      expect((await leases.readNamespacedLease({ name: ipClaimName(s.allocations.ip), namespace: 'wimaxvm-system' })).spec?.holderIdentity).toBe(`default/${name(n)}`);
      const hostname = s.allocations.ip.endsWith('.201') ? 'pub201' : name(n);
      expect(await dhcpHosts()).toContainEqual({ mac: s.allocations.mac, ip: s.allocations.ip, name: hostname });
    }
    const pool = await eventually(async () => {
      const p = await api.getNamespacedCustomObject({ ...G, plural: 'ippools', name: 'lab' });
      return p.status?.allocated === 2 ? p : undefined;
    }, 'the pool status through /status');
    expect(pool.status).toMatchObject({ size: 2, allocated: 2, free: 0 });
    expect(pool.metadata.finalizers ?? []).toEqual([]); // deleting a pool frees nothing: no finalizer to wait for
  });

  it('a dry pool: Pending with the reason; a deleted VM gives its address, Lease and DHCP entry to the waiting one', async () => {
    await createVm('c');
    const waiting = await eventually(async () => {
      const s = await vmStatus('c');
      return s?.printableStatus === 'Pending' ? s : undefined;
    }, 'c Pending');
    expect(waiting.conditions.find((c: { type: string }) => c.type === 'IPAssigned')).toMatchObject({ status: 'False', reason: 'IPPoolExhausted' });
    const a = await vmStatus('a');
    await api.deleteNamespacedCustomObject({ ...G, plural: 'virtualmachines', name: name('a') });
    const c = await eventually(async () => {
      const s = await vmStatus('c');
      return s?.allocations?.ip === a.allocations.ip && s.printableStatus === 'Stopped' ? s : undefined;
    }, 'c gets the address a gave back', 15_000);
    expect((await leases.readNamespacedLease({ name: ipClaimName(c.allocations.ip), namespace: 'wimaxvm-system' })).spec?.holderIdentity).toBe(`default/${name('c')}`);
    const hosts = await dhcpHosts();
    expect(hosts.filter((h) => h.mac === a.allocations.mac)).toEqual([]);
    expect(hosts).toContainEqual(expect.objectContaining({ mac: c.allocations.mac, ip: c.allocations.ip }));
  });
});
