// KubeSource against the API-server double: a missing CRD is said once, and the retries of its
// watch back off instead of running every 500 ms (issue 8, 7); a standby replica's source
// watches without writing, until it is told it leads (issue 8, 8).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { identifyClient, USER_AGENT } from '../../src/adapters/kube-client-identity.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { createLogger } from '../../src/core/logger.js';
import { CRDS_DIR } from '../../src/package-root.js';
import { KubeSource } from '../../src/sources/kube-source.js';
import { eventually } from '../helpers/harness.js';
import { FakeApiServer } from './api-server.js';

const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };
const VM_LIST = '/apis/wimaxvm.io/v1alpha1/namespaces/default/virtualmachines';

describe('KubeSource', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  const setup = async (installCrds: boolean, opts: { writing?: boolean } = {}) => {
    const server = await FakeApiServer.start({ installCrds });
    cleanup.push(() => server.stop());
    const logs: { level: string; msg: string; kind?: string; retryInMs?: number }[] = [];
    const logger = createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(JSON.parse(l)) });
    const source = new KubeSource({ kubeConfig: identifyClient(server.kubeConfig()), logger, namespace: 'default', retryBaseMs: 10, retryMaxMs: 200, ...opts });
    cleanup.push(() => source.stop());
    const store = new DesiredStore();
    return { server, logs, source, store };
  };

  it('says once that a CRD is missing, retries with a growing delay, and says when it is back', async () => {
    const { server, logs, source, store } = await setup(false);
    const started = source.start(store).catch(() => undefined);
    const lists = () => server.requests.filter((r) => r.path === VM_LIST && r.userAgent === USER_AGENT && r.query.watch === undefined).length;
    await eventually(() => lists() >= 6, 'six list attempts');
    const missing = logs.filter((l) => l.kind === 'VirtualMachine' && l.msg.includes('is its CRD installed'));
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ level: 'error', msg: expect.stringContaining('virtualmachines.wimaxvm.io') });
    expect(logs.filter((l) => l.kind === 'VirtualMachine' && l.msg === 'watch failed, restarting')).toEqual([]);

    for (const file of readdirSync(CRDS_DIR).filter((f) => f.endsWith('.yaml'))) {
      await fetch(`${server.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(parse(readFileSync(join(CRDS_DIR, file), 'utf8'))),
      });
    }
    await server.kubeConfig().makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'back' }, spec: {} },
    });
    await eventually(() => store.has('VirtualMachine/default/back'), 'the VM through the restarted watch', 10_000);
    expect(logs.filter((l) => l.msg === 'virtualmachines.wimaxvm.io is served again')).toHaveLength(1);
    await started;
  });

  it('other watch failures are warnings whose delay grows', async () => {
    const { server, logs, source, store } = await setup(true);
    for (let i = 0; i < 5; i++) server.failNext('GET', new RegExp(`^${VM_LIST}$`), 503);
    const started = source.start(store).catch(() => undefined);
    await eventually(() => logs.filter((l) => l.kind === 'VirtualMachine' && l.msg === 'watch failed, restarting').length >= 5, 'five failures');
    const delays = logs.filter((l) => l.kind === 'VirtualMachine' && l.msg === 'watch failed, restarting').map((l) => l.retryInMs!);
    // 10, 20, 40, 80, 160 ms with up to 20% jitter: each at least the double of the one before's base.
    delays.forEach((d, i) => expect(d).toBeGreaterThanOrEqual(10 * 2 ** i));
    expect(delays[4]).toBeLessThanOrEqual(200);
    await started;
  });

  it('a standby watches but adds no finalizer; startWriting() adds the missing ones', async () => {
    const { server, source, store } = await setup(true, { writing: false });
    await source.start(store);
    const api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({ ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'new' }, spec: {} } });
    await eventually(() => store.has('VirtualMachine/default/new'), 'the standby sees the VM');
    expect(server.requests.filter((r) => r.userAgent === USER_AGENT && r.method !== 'GET')).toEqual([]);
    expect((await api.getNamespacedCustomObject({ ...VMS, name: 'new' })).metadata.finalizers).toBeUndefined();

    source.startWriting();
    await eventually(async () => ((await api.getNamespacedCustomObject({ ...VMS, name: 'new' })).metadata.finalizers ?? []).includes('wimaxvm.io/cleanup'), 'the finalizer once leading');
  });
});

describe('KubeSource as the deletion gate\'s witness', () => {
  it('vouches for no deletion from a failed watch until a restart goes through without a new error', async () => {
    const server = await FakeApiServer.start({ installCrds: true });
    const source = new KubeSource({ kubeConfig: identifyClient(server.kubeConfig()), logger: createLogger({ level: 'error', write: () => undefined }), namespace: 'default', retryBaseMs: 20, retryMaxMs: 80 });
    try {
      await server.kubeConfig().makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
        ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'kept' }, spec: {} },
      });
      await source.start(new DesiredStore());
      expect(source.blocked()).toBeUndefined();
      expect(source.absence('VirtualMachine/default/gone')).toMatchObject({ confirmed: true });

      // The next four watch attempts fail; in between, nothing may count as up again.
      const attempts = () => server.requests.filter((r) => r.path === VM_LIST && r.query.watch !== undefined).length;
      const before = attempts();
      for (let i = 0; i < 4; i++) server.failNext('GET', /\/virtualmachines$/, 503);
      const samples: (string | undefined)[] = [];
      server.dropWatches();
      await eventually(() => source.blocked() !== undefined, 'the source to see its watch down');
      const sampler = setInterval(() => samples.push(source.blocked()), 2);
      await eventually(() => attempts() >= before + 4, 'four failed watch attempts');
      clearInterval(sampler);
      expect(samples.length).toBeGreaterThan(10);
      expect(samples.every((s) => s !== undefined && s.includes('down'))).toBe(true);
      expect(source.absence('VirtualMachine/default/gone')).toMatchObject({ confirmed: false });
      await eventually(() => source.blocked() === undefined, 'the watch up again after the failures');
      expect(source.absence('VirtualMachine/default/gone')).toMatchObject({ confirmed: true });
    } finally {
      await source.stop();
      await server.stop();
    }
  });
});

describe('KubeSource in DaemonSet mode, as the deletion gate\'s witness', () => {
  it('a VM runs on the node its status names (else spec.nodeName): a new spec.nodeName alone moves nothing; once handed over it is another node\'s and nothing here is deleted', async () => {
    const server = await FakeApiServer.start({ installCrds: true });
    const api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    const source = new KubeSource({ kubeConfig: identifyClient(server.kubeConfig()), logger: createLogger({ level: 'error', write: () => undefined }), namespace: 'default', nodeName: 'node-a' });
    const key = 'VirtualMachine/default/roamer';
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const setSpecNode = (nodeName: string | null) => api.patchNamespacedCustomObject({ ...VMS, name: 'roamer', body: { spec: { nodeName } } }, merge);
    const setStatusNode = (nodeName: string) => api.patchNamespacedCustomObjectStatus({ ...VMS, name: 'roamer', body: { status: { nodeName } } }, merge);
    const store = new DesiredStore();
    try {
      await api.createNamespacedCustomObject({ ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'roamer' }, spec: { nodeName: 'node-a' } } });
      await source.start(store);
      expect(store.has(key)).toBe(true);
      await setStatusNode('node-a'); // it runs here
      await setSpecNode('node-b'); // a move asked: node-a still runs it until it hands it over
      await eventually(async () => (source.object(key)?.spec as { nodeName?: string } | undefined)?.nodeName === 'node-b', 'the new spec seen');
      expect(store.has(key)).toBe(true);
      expect(source.movedAway(key)).toBeUndefined();
      await setStatusNode('node-b'); // the handover
      await eventually(() => !store.has(key), 'no longer this node\'s');
      expect(source.movedAway(key)).toBe('node-b');
      expect(source.absence(key)).toEqual({ confirmed: false, why: 'it is declared and runs on node node-b now', movedTo: 'node-b' });
      // Never placed and pinned nowhere: no node's, and not deleted either.
      await api.createNamespacedCustomObject({ ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'nowhere' }, spec: {} } });
      await eventually(async () => source.listAll('VirtualMachine').some((o) => o.metadata.name === 'nowhere'), 'the unplaced VM seen');
      expect(source.absence('VirtualMachine/default/nowhere')).toEqual({ confirmed: false, why: 'it is declared and placed on no node yet' });
      // Deleted through the API: that is evidence, whatever node it ran on.
      await api.deleteNamespacedCustomObject({ ...VMS, name: 'roamer' });
      await eventually(() => source.absence(key).confirmed, 'deleted');
    } finally {
      await source.stop();
      await server.stop();
    }
  });
});
