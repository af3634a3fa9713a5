// A lease in Kubernetes mode: the whole controller against the API-server double, on libvirt's
// test driver. A 3s lease with onExpiry Delete: the domain goes with the gate's lease permit while
// the object stays (finalizer and all), Expired; the annotation renews it, an edited duration
// brings it back; kubectl delete still removes it the usual way. Nothing is timed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { buildConfig } from '../../src/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import { eventually } from '../helpers/harness.js';
import type { FakeApiServer } from './api-server.js';
import { startCluster } from './cluster-fixture.js';

const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const LONG = 40_000; // a bound on a wait for the condition, not a timing
const name = `kl-${Math.random().toString(36).slice(2, 6)}`;

describe('a lease in Kubernetes mode', () => {
  let server: FakeApiServer;
  let api: CustomObjectsApi;
  let core: CoreV1Api;
  let controller: RunningController;
  const observer = new LibvirtHypervisor({ uri: 'test:///default', logger: silentLogger });
  const get = () => api.getNamespacedCustomObject({ ...VMS, name });
  const reasons = async () => (await core.listNamespacedEvent({ namespace: 'default' })).items.filter((e) => e.involvedObject.name === name).map((e) => e.reason);

  beforeAll(async () => {
    let kubeconfig: string;
    ({ server, kubeconfig } = await startCluster());
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    core = server.kubeConfig().makeApiClient(CoreV1Api);
    await observer.connect();
    controller = await startController(buildConfig({
      source: 'kube', kubeconfig, connect: 'test:///default', 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-kube-lease-')),
      listen: 'off', poll: '100ms', resync: '10m', 'shutdown-timeout': '1s',
    }), silentLogger);
  });
  afterAll(async () => {
    await controller?.stop();
    await observer.close();
    await server.stop();
  });

  it('expires with Delete: the domain goes, the object stays Expired with expiresAt', async () => {
    await api.createNamespacedCustomObject({ ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name }, spec: { memory: '64Mi', lease: { duration: '3s', onExpiry: 'Delete' } } } });
    const expired = await eventually(async () => {
      const o = await get();
      return o.status?.printableStatus === 'Expired' && !(await observer.getDomain(name, true)) ? o : undefined;
    }, `${name} Expired and its domain gone`, LONG);
    expect(Date.parse(expired.status.expiresAt) - Date.parse(expired.status.lease.startedAt)).toBe(3000);
    expect(expired.status.conditions.find((c: { type: string }) => c.type === 'Lease')).toMatchObject({ status: 'False', reason: 'Expired' });
    expect(expired.metadata.finalizers).toContain('wimaxvm.io/cleanup');
    expect(expired.spec.lease).toEqual({ duration: '3s', onExpiry: 'Delete' }); // never written by the controller
    await eventually(async () => {
      const said = await reasons();
      return ['LeaseStarted', 'LeaseExpiring', 'LeaseExpired', 'Deleted'].every((r) => said.includes(r));
    }, 'the lease events', LONG);
  });

  it('the renewedAt annotation starts it again, an edited duration brings it back running', async () => {
    expect(await reasons()).not.toContain('LeaseRenewed');
    await api.patchNamespacedCustomObject({ ...VMS, name, body: { metadata: { annotations: { 'wimaxvm.io/renewedAt': '2026-12-03T01:50:00Z' } } } }, MERGE);
    // The renewed 3s lease runs out again soon: what is waited for stays true once it happened.
    await eventually(async () => (await get()).status?.lease?.renewedAt === '2026-12-03T01:50:00Z' && (await reasons()).includes('LeaseRenewed'), 'renewed', LONG);
    await api.patchNamespacedCustomObject({ ...VMS, name, body: { spec: { lease: { duration: '2h' } } } }, MERGE);
    const back = await eventually(async () => {
      const o = await get();
      return o.status?.printableStatus === 'Running' && o.status.observedGeneration === o.metadata.generation ? o : undefined;
    }, 'Running for 2h', LONG);
    expect(Date.parse(back.status.expiresAt) - Date.parse(back.status.lease.startedAt)).toBe(2 * 3_600_000);
    expect((await observer.getDomain(name))?.state).toBe('running');
  });

  it('kubectl delete still removes it through the usual gate', async () => {
    await api.deleteNamespacedCustomObject({ ...VMS, name });
    await eventually(async () => !(await observer.getDomain(name, true)) && (await get().then(() => false, (e) => e.code === 404)), 'domain and object gone', LONG);
  });
});
