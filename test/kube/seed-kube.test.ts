// The cloud-init seed through the API-server double: a VirtualMachine with spec.cloudInit applied
// to the cluster gets its seed image (real genisoimage) on a CD-ROM and SeedReady in status;
// the double refuses a bad cloudInit as the real server does; deleting the object removes the
// seed with the overlays, after the finalizer's cleanup.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { buildConfig, type Config } from '../../src/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import { eventually } from '../helpers/harness.js';
import type { FakeApiServer } from './api-server.js';
import { startCluster } from './cluster-fixture.js';

const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };
const run = Math.random().toString(36).slice(2, 6);
const VM = `kseed-${run}`;

function vm(name: string, cloudInit: Record<string, unknown>) {
  return { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name, namespace: 'default' }, spec: { memory: '64Mi', cloudInit } };
}

describe('the cloud-init seed in Kubernetes mode', () => {
  let server: FakeApiServer;
  let api: CustomObjectsApi;
  let controller: RunningController;
  let config: Config;
  const observer = new LibvirtHypervisor({ uri: 'test:///default', logger: silentLogger });
  const iso = () => join(config.overlayDir, VM, 'cidata.iso');

  beforeAll(async () => {
    let kubeconfig: string;
    ({ server, kubeconfig } = await startCluster());
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    await observer.connect();
    config = buildConfig({
      source: 'kube', kubeconfig, connect: 'test:///default', 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-kseed-')),
      listen: 'off', poll: '100ms', resync: '10m', 'shutdown-timeout': '1s',
    });
    controller = await startController(config, silentLogger);
  });
  afterAll(async () => {
    await controller?.stop();
    await observer.close();
    await server?.stop();
  });

  it('a VM with spec.cloudInit runs with its seed on a CD-ROM, and says SeedReady', async () => {
    await api.createNamespacedCustomObject({ ...VMS, body: vm(VM, { hostname: 'kbox', sshAuthorizedKeys: ['ssh-ed25519 AAAA bob@lab'], userData: '#cloud-config\npackages: [iperf3]\n' }) });
    const object = await eventually(async () => {
      const o = await api.getNamespacedCustomObject({ ...VMS, name: VM });
      return o.status?.printableStatus === 'Running' ? o : undefined;
    }, `${VM} Running`);
    expect(object.status.conditions.find((c: { type: string }) => c.type === 'SeedReady')).toMatchObject({ status: 'True', reason: 'SeedBuilt', observedGeneration: 1 });
    expect((await observer.getDomain(VM))!.persistentXml).toContain(`<source file='${iso()}'/>`);
    const userData = execFileSync('isoinfo', ['-i', iso(), '-J', '-x', '/user-data']).toString();
    expect(userData.split('\n')[0]).toBe('#cloud-config');
    expect(userData).toMatch(/^packages: \[ iperf3 \]$/m);
    expect(userData).toMatch(/^hostname: kbox$/m);
    expect(userData).toContain('- ssh-ed25519 AAAA bob@lab');
    // The controller never writes spec.
    expect(object.spec.cloudInit).toEqual({ hostname: 'kbox', sshAuthorizedKeys: ['ssh-ed25519 AAAA bob@lab'], userData: '#cloud-config\npackages: [iperf3]\n' });
  });

  it('the double refuses a bad cloudInit as the real API server does (422)', async () => {
    const refused = await api.createNamespacedCustomObject({ ...VMS, body: vm(`${VM}-bad`, { hostname: 'Box30' }) }).then(() => undefined, (err: { code?: number; body?: string }) => err);
    expect(refused?.code).toBe(422);
    expect(String(refused?.body)).toContain('spec.cloudInit.hostname');
  });

  it('deleting the object removes the domain and its seed', async () => {
    expect(existsSync(iso())).toBe(true);
    await api.deleteNamespacedCustomObject({ ...VMS, name: VM });
    await eventually(async () => (await observer.getDomain(VM)) === undefined, `${VM} undefined`);
    expect(existsSync(join(config.overlayDir, VM))).toBe(false);
  });
});
