// Live changes in Kubernetes mode: the real @kubernetes/client-node against the API-server
// double (which validates against the CRD), the real engine on libvirt's test driver. A merge
// patch of memory and vcpus within the declared maxima reaches the running guest without a
// restart; the CRD refuses malformed maxima and NICs; what it cannot say (a maximum below the
// memory) the controller reports as Failed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { buildConfig } from '../../src/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import { parseDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually } from '../helpers/harness.js';
import type { FakeApiServer } from './api-server.js';
import { startCluster } from './cluster-fixture.js';

const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines' };
const run = Math.random().toString(36).slice(2, 6);
const MiB = 1024;
const vm = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name, namespace: 'default' }, spec });
const condition = (o: { status?: { conditions?: { type: string }[] } }, type: string) => o.status?.conditions?.find((c) => c.type === type) as Record<string, unknown> | undefined;

describe('live changes in Kubernetes mode (API-server double)', () => {
  let server: FakeApiServer;
  let api: CustomObjectsApi;
  let controller: RunningController;
  const observer = new LibvirtHypervisor({ uri: 'test:///default', logger: silentLogger });
  const get = (name: string) => api.getNamespacedCustomObject({ ...VMS, namespace: 'default', name });
  const live = async (name: string) => {
    const snapshot = (await observer.getDomain(name, true))!;
    return { id: snapshot.id, facts: parseDomainXml(snapshot.liveXml!).facts };
  };

  beforeAll(async () => {
    let kubeconfig: string;
    ({ server, kubeconfig } = await startCluster());
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    await observer.connect();
    controller = await startController(buildConfig({
      source: 'kube', kubeconfig, connect: 'test:///default', 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-kube-live-')),
      listen: 'off', poll: '100ms', resync: '10m', 'shutdown-timeout': '1s',
    }), silentLogger);
  });
  afterAll(async () => {
    await controller?.stop();
    await observer.close();
    await server?.stop();
  });

  it('a merge patch of memory and vcpus within the maxima is applied to the running guest; the status says so', async () => {
    const name = `kl-${run}`;
    await api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(name, {
      memory: '128Mi', maxMemory: '1Gi', vcpus: 1, maxVcpus: 4, interfaces: [{ name: 'mgmt', network: 'default' }],
    }) });
    await eventually(async () => (await get(name)).status?.printableStatus === 'Running', `${name} Running`);
    const before = await live(name);
    expect(before.facts).toMatchObject({ memoryKiB: 128 * MiB, maxMemoryKiB: 1024 * MiB, vcpus: 1, maxVcpus: 4 });
    expect(before.facts.nics).toHaveLength(2); // the extra NIC, in the definition the guest started with

    await api.patchNamespacedCustomObject({ ...VMS, namespace: 'default', name, body: { spec: { memory: '768Mi', vcpus: 2 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const object = await eventually(async () => {
      const o = await get(name);
      return o.status?.observedGeneration === 2 && condition(o, 'LiveUpdated') ? o : undefined;
    }, 'LiveUpdated at generation 2');
    expect(condition(object, 'LiveUpdated')).toMatchObject({ status: 'True', reason: 'Applied', observedGeneration: 2, message: expect.stringContaining('memory 768Mi, vcpus 2') });
    expect(condition(object, 'RestartRequired')).toBeUndefined();
    expect(object.status.printableStatus).toBe('Running');
    const after = await live(name);
    expect(after.id).toBe(before.id);
    expect(after.facts).toMatchObject({ memoryKiB: 768 * MiB, vcpus: 2 });
  });

  it('the CRD refuses malformed maxima and NICs (a NIC without a network, two of one name)', async () => {
    const bad = (spec: Record<string, unknown>) => api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(`kl-${run}-bad`, { memory: '64Mi', ...spec }) });
    await expect(bad({ maxMemory: '1Ki' })).rejects.toMatchObject({ code: 422 });
    await expect(bad({ maxVcpus: 0 })).rejects.toMatchObject({ code: 422 });
    await expect(bad({ interfaces: [{ name: 'mgmt' }] })).rejects.toMatchObject({ code: 422 });
    await expect(bad({ interfaces: [{ name: 'Mgmt', network: 'default' }] })).rejects.toMatchObject({ code: 422 });
    await expect(bad({ interfaces: [{ name: 'a', network: 'default' }, { name: 'a', network: 'lab' }] })).rejects.toMatchObject({ code: 422 });
  });

  it('a maximum below the memory: the double refuses it too (it applies the kind rules as file mode does; the real server, without them, leaves it to the controller: Failed, InvalidSpec)', async () => {
    await expect(api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(`kl-${run}-low`, { memory: '256Mi', maxMemory: '128Mi' }) }))
      .rejects.toMatchObject({ code: 422, body: expect.stringContaining('must be at least spec.memory (256Mi)') });
  });
});
