// spec.powerState through the API-server double (validated against the CRD schema) with the
// real engine on libvirt's test driver: pause, save, restore, and an unknown value refused.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { buildConfig } from '../../src/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import { eventually } from '../helpers/harness.js';
import type { FakeApiServer } from './api-server.js';
import { startCluster } from './cluster-fixture.js';

const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };
const name = `kp-${Math.random().toString(36).slice(2, 6)}`;

describe('declared power state in Kubernetes mode', () => {
  let server: FakeApiServer;
  let api: CustomObjectsApi;
  let controller: RunningController;
  const observer = new LibvirtHypervisor({ uri: 'test:///default', logger: silentLogger });
  const status = async (want: string) => eventually(async () => {
    const o = await api.getNamespacedCustomObject({ ...VMS, name });
    return o.status?.printableStatus === want ? o : undefined;
  }, `${name} ${want}`);
  const setPower = (powerState: string) =>
    api.patchNamespacedCustomObject({ ...VMS, name, body: { spec: { powerState } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));

  beforeAll(async () => {
    const cluster = await startCluster();
    server = cluster.server;
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    await observer.connect();
    controller = await startController(buildConfig({
      source: 'kube', kubeconfig: cluster.kubeconfig, connect: 'test:///default', 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-kp-')),
      listen: 'off', poll: '100ms', resync: '10m', 'shutdown-timeout': '1s',
    }), silentLogger);
  });
  afterAll(async () => {
    await controller.stop();
    await observer.close();
    await server.stop();
  });

  it('Paused, Saved, Running: the domain follows and printableStatus says so', async () => {
    await api.createNamespacedCustomObject({ ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name }, spec: { memory: '64Mi', powerState: 'Paused' } } });
    await status('Paused');
    expect((await observer.domainState(name))?.state).toBe('paused');
    await setPower('Saved');
    const saved = await status('Saved');
    expect(saved.status.conditions.find((c: { type: string }) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Saved' });
    expect(await observer.hasManagedSave(name)).toBe(true);
    await setPower('Running');
    await status('Running');
    expect((await observer.domainState(name))?.state).toBe('running');
    expect(await observer.hasManagedSave(name)).toBe(false);
  });

  it('an unknown power state is refused by the API server', async () => {
    await expect(setPower('Hibernating')).rejects.toMatchObject({ code: 422 });
  });
});
