// The whole controller in Kubernetes mode: the real @kubernetes/client-node against the
// API-server test double, the real engine on libvirt's test driver.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { buildConfig, type Config } from '../../src/config.js';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import { eventually } from '../helpers/harness.js';
import type { FakeApiServer } from './api-server.js';
import { startCluster } from './cluster-fixture.js';

const G = { group: 'wimaxvm.io', version: 'v1alpha1' };
const VMS = { ...G, plural: 'virtualmachines' };
const run = Math.random().toString(36).slice(2, 6);

function vm(name: string, spec: Record<string, unknown> = {}) {
  return { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name, namespace: 'default' }, spec: { memory: '64Mi', ...spec } };
}

describe('Kubernetes mode', () => {
  let server: FakeApiServer;
  let kubeconfig: string;
  let api: CustomObjectsApi;
  let core: CoreV1Api;
  const observer = new LibvirtHypervisor({ uri: 'test:///default', logger: silentLogger });
  const running: RunningController[] = [];
  const logs: string[] = [];

  const config = (extra: Record<string, unknown> = {}): Config => buildConfig({
    source: 'kube', kubeconfig, connect: 'test:///default', 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-kube-')),
    listen: 'off', poll: '100ms', resync: '10m', 'shutdown-timeout': '1s', ...extra,
  });
  const start = async (c: Config = config()) => {
    const r = await startController(c, createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) }));
    running.push(r);
    return r;
  };
  const get = (name: string) => api.getNamespacedCustomObject({ ...VMS, namespace: 'default', name });
  const gone = async (name: string) => {
    try {
      await get(name);
      return false;
    } catch (err) {
      return (err as { code?: number }).code === 404;
    }
  };

  beforeAll(async () => {
    ({ server, kubeconfig } = await startCluster());
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    core = server.kubeConfig().makeApiClient(CoreV1Api);
    await observer.connect();
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.stop();
  });
  afterAll(async () => {
    await observer.close();
    await server.stop();
  });

  it('a VM applied to the cluster runs; status only through /status; finalizer; events', async () => {
    await start();
    const name = `k-${run}-a`;
    await api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(name, { network: { mac: '52:52:52:52:52:52' } }) });
    const object = await eventually(async () => {
      const o = await get(name);
      return o.status?.printableStatus === 'Running' ? o : undefined;
    }, `${name} Running`);
    expect((await observer.getDomain(name))!.state).toBe('running');
    expect(object.metadata.finalizers).toContain('wimaxvm.io/cleanup');
    expect(object.metadata.generation).toBe(1);
    expect(object.status.observedGeneration).toBe(1);
    expect(object.status.conditions.find((c: { type: string }) => c.type === 'Ready')).toMatchObject({ status: 'True', observedGeneration: 1 });
    // The controller never writes spec: exactly what was applied, with the API server's defaults.
    expect(object.spec).toEqual({ memory: '64Mi', runStrategy: 'Always', vcpus: 1, network: { mac: '52:52:52:52:52:52' } });
    expect(server.requests.filter((r) => r.method === 'PUT' || (r.method === 'PATCH' && r.path.endsWith(`/${name}`) && !r.path.endsWith('/status'))).length)
      .toBeLessThanOrEqual(1); // the one finalizer patch
    const events = await eventually(async () => {
      const list = (await core.listNamespacedEvent({ namespace: 'default' })).items.filter((e) => e.involvedObject.name === name);
      return list.some((e) => e.reason === 'Started') ? list : undefined;
    }, 'Started event');
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Defined', 'Started']));
    expect(events[0]!.involvedObject).toMatchObject({ kind: 'VirtualMachine', uid: object.metadata.uid });
  });

  it('a spec change bumps the generation; the domain follows and observedGeneration catches up', async () => {
    await start();
    const name = `k-${run}-b`;
    await api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(name) });
    await eventually(async () => (await get(name)).status?.printableStatus === 'Running', 'Running');
    await api.patchNamespacedCustomObject({ ...VMS, namespace: 'default', name, body: { spec: { runStrategy: 'Halted' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const o = await eventually(async () => {
      const x = await get(name);
      return x.status?.printableStatus === 'Stopped' ? x : undefined;
    }, 'Stopped');
    expect(o.metadata.generation).toBe(2);
    expect(o.status.observedGeneration).toBe(2);
    expect(o.status.domain.id).toBeUndefined(); // fields that went away are gone from the API too
    expect((await observer.getDomain(name))!.state).toBe('shutoff');
  });

  it('kubectl delete: domain gone first, then the finalizer, then the object', async () => {
    await start();
    const name = `k-${run}-c`;
    await api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(name) });
    await eventually(async () => (await get(name)).status?.printableStatus === 'Running', 'Running');
    await api.deleteNamespacedCustomObject({ ...VMS, namespace: 'default', name });
    await eventually(() => gone(name), 'object deleted');
    expect(await observer.getDomain(name, true)).toBeUndefined();
  });

  it('the API server refuses invalid specs through the CRD schema', async () => {
    await expect(api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(`k-${run}-bad`, { runStrategy: 'Sometimes' }) }))
      .rejects.toMatchObject({ code: 422 });
    await expect(api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(`k-${run}-bad`, { network: { mac: '01:00:5e:00:00:01' } }) }))
      .rejects.toMatchObject({ code: 422 });
  });

  it('a dropped watch is restarted; changes after it are still reconciled', async () => {
    await start();
    server.dropWatches();
    await eventually(() => logs.some((l) => l.includes('watch failed, restarting')), 'the restart logged');
    const name = `k-${run}-d`;
    await api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(name) });
    await eventually(async () => (await get(name)).status?.printableStatus === 'Running', 'Running after the drop', 30_000);
  });

  it('410 Gone: the informer lists again and sees what changed meanwhile', async () => {
    const r = await start();
    const name = `k-${run}-e`;
    server.compactHistory();
    server.closeWatches(); // reconnects from an old resourceVersion: 410, then a fresh list
    await api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(name) });
    await eventually(async () => (await get(name)).status?.printableStatus === 'Running', 'Running after 410', 30_000);
    expect(r.store.has(`VirtualMachine/default/${name}`)).toBe(true);
  });

  it('a WimaxClient gets its status written (Pending without a switch)', async () => {
    await start();
    const vmName = `k-${run}-f`;
    await api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(vmName) });
    await api.createNamespacedCustomObject({ ...G, plural: 'wimaxclients', namespace: 'default', body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'WimaxClient', metadata: { name: `${vmName}-st` }, spec: { mac: '00:11:22:33:44:55', vmName } } });
    const client = await eventually(async () => {
      const c = await api.getNamespacedCustomObject({ ...G, plural: 'wimaxclients', namespace: 'default', name: `${vmName}-st` });
      return c.status ? c : undefined;
    }, 'client status');
    expect(client.status).toMatchObject({ printableStatus: 'Pending', vmName });
    expect(client.status.conditions[0].reason).toBe('NoDatapath');
  });

  it("DaemonSet mode: a node serves only its node's VMs and leaves the others' objects alone", async () => {
    await start(config({ 'node-name': 'node-1' }));
    const mine = `k-${run}-n1`;
    const theirs = `k-${run}-n2`;
    await api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(mine, { nodeName: 'node-1' }) });
    await api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(theirs, { nodeName: 'node-2' }) });
    await eventually(async () => (await get(mine)).status?.printableStatus === 'Running', 'my VM Running');
    await new Promise((r) => setTimeout(r, 300));
    const other = await get(theirs);
    expect(other.status).toBeUndefined();
    expect(other.metadata.finalizers ?? []).toEqual([]);
    expect(await observer.getDomain(theirs, true)).toBeUndefined();
    // Moved here: now it is this node's to run.
    await api.patchNamespacedCustomObject({ ...VMS, namespace: 'default', name: theirs, body: { spec: { nodeName: 'node-1' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await eventually(async () => (await get(theirs)).status?.printableStatus === 'Running', 'moved VM Running');
    // A move asked to a node this one cannot reach (node-2 registered no Hypervisor): nothing is
    // stopped or deleted; it stays Running here and says why (issue 11: a move is a migration).
    await api.patchNamespacedCustomObject({ ...VMS, namespace: 'default', name: mine, body: { spec: { nodeName: 'node-2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const stays = await eventually(async () => {
      const o = await get(mine);
      return o.status?.observedGeneration === o.metadata.generation ? o : undefined;
    }, 'the new spec observed');
    expect(stays.status).toMatchObject({ printableStatus: 'Running', nodeName: 'node-1' });
    expect(stays.status.conditions.find((c: { type: string }) => c.type === 'Scheduled').message).toBe('runs on node-1; spec.nodeName names node-2, which is not a Ready hypervisor this node can move it to: it stays');
    expect((await observer.getDomain(mine, true))?.state).toBe('running');
  });

  it('DaemonSet mode: a VM whose status names another node (it runs there) is left alone, even with spec.nodeName naming this node', async () => {
    const name = `k-${run}-elsewhere`;
    await api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm(name, { nodeName: 'node-1' }) });
    await api.patchNamespacedCustomObjectStatus({ ...VMS, namespace: 'default', name, body: { status: { printableStatus: 'Running', nodeName: 'node-2', conditions: [], allocations: {} } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const r = await start(config({ 'node-name': 'node-1' }));
    await r.idle();
    const object = await get(name);
    expect(object.status).toMatchObject({ printableStatus: 'Running', nodeName: 'node-2' });
    expect(object.metadata.finalizers ?? []).toEqual([]);
    expect(await observer.getDomain(name, true)).toBeUndefined();
  });
});
