// Kubernetes mode without a readable cluster deletes nothing: the real @kubernetes/client-node
// against the API-server test double (and against a port nothing listens on), the real engine
// on libvirt's test driver.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { buildConfig, type Config } from '../../src/config.js';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import { eventually } from '../helpers/harness.js';
import type { FakeApiServer } from './api-server.js';
import { startCluster } from './cluster-fixture.js';

const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines' };
const run = Math.random().toString(36).slice(2, 6);

describe('Kubernetes mode with no readable cluster', () => {
  let server: FakeApiServer;
  let kubeconfig: string;
  let api: CustomObjectsApi;
  const observer = new LibvirtHypervisor({ uri: 'test:///default', logger: silentLogger });
  const running: RunningController[] = [];
  const logs: string[] = [];

  const config = (path = kubeconfig): Config => buildConfig({
    source: 'kube', kubeconfig: path, connect: 'test:///default', 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-kube-')),
    listen: 'off', poll: '100ms', resync: '10m', 'shutdown-timeout': '1s',
  });
  const logger = () => createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) });

  beforeAll(async () => {
    ({ server, kubeconfig } = await startCluster());
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    await observer.connect();
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.stop();
  });
  afterAll(async () => {
    await observer.close();
    await server.stop();
  });

  /** A VM run by a first controller, which then stops; its domain stays behind. */
  async function vmLeftRunning(name: string) {
    const first = await startController(config(), logger());
    await api.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name }, spec: { memory: '64Mi' } } });
    await eventually(async () => (await observer.getDomain(name))?.state === 'running', `${name} running`);
    await first.stop();
    return (await observer.getDomain(name, true))!;
  }

  it('lists that fail at start: nothing is deleted; the controller starts once the list succeeds', async () => {
    const name = `ks-${run}-a`;
    const before = await vmLeftRunning(name);
    const listed = server.requests.length;
    for (let i = 0; i < 3; i++) server.failNext('GET', /\/apis\/wimaxvm\.io\/v1alpha1\/virtualmachines$/, 503);
    const starting = startController(config(), logger());
    await eventually(() => server.requests.slice(listed).filter((r) => r.method === 'GET' && r.path.endsWith('/virtualmachines')).length >= 3, 'three failed lists');
    expect((await observer.getDomain(name, true))!.id).toBe(before.id);
    const second = await starting;
    running.push(second);
    await eventually(async () => (await api.getNamespacedCustomObject({ ...VMS, namespace: 'default', name })).status?.printableStatus === 'Running', 'Running');
    await second.idle();
    const after = (await observer.getDomain(name, true))!;
    expect(after.state).toBe('running');
    expect(after.id).toBe(before.id); // never stopped, deleted or recreated
  });

  it('no API server at all: the start waits (retrying), deletes nothing, and stops cleanly when asked', async () => {
    const name = `ks-${run}-b`;
    const before = await vmLeftRunning(name);
    // The same cluster address as before, now with nothing listening: a server that is down.
    const down = join(mkdtempSync(join(tmpdir(), 'wimaxvm-kc-')), 'config');
    writeFileSync(down, server.kubeConfig().exportConfig().replace(server.url, 'http://127.0.0.1:1'));
    const abort = new AbortController();
    const mark = logs.length;
    const starting = startController(config(down), logger(), abort.signal);
    await eventually(() => logs.slice(mark).filter((l) => l.includes('watch failed')).length >= 2, 'two failed attempts');
    expect((await observer.getDomain(name, true))!.id).toBe(before.id);
    abort.abort();
    await expect(starting).rejects.toThrow(/stopped while starting/);
    expect((await observer.getDomain(name, true))!.id).toBe(before.id);
    expect(logs.slice(mark).some((l) => /shutting down|destroyed|undefined/.test(l))).toBe(false);
  });
});
