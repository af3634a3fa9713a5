// Two controller replicas on one Lease: one acts, the other waits; the lease moves on release
// and on expiry; a replica that loses it stops acting at once.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, V1MicroTime } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import { eventually } from '../helpers/harness.js';
import { FakeApiServer } from './api-server.js';

const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };
const LEASE = { name: 'wimaxvm-controller', namespace: 'default' };
const run = Math.random().toString(36).slice(2, 6);

describe('leader election', () => {
  let server: FakeApiServer;
  let kubeconfig: string;
  let api: CustomObjectsApi;
  let leases: CoordinationV1Api;
  const logs: string[] = [];

  const replica = async (identity: string): Promise<RunningController> => {
    const config: Config = buildConfig({
      source: 'kube', kubeconfig, connect: 'test:///default', 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-le-')),
      listen: 'off', poll: '100ms', resync: '10m', 'leader-elect': true, 'lease-namespace': 'default',
    });
    config.kube!.leaderElection = { ...config.kube!.leaderElection!, identity, leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };
    return startController(config, createLogger({ level: 'info', format: 'json', write: (l) => logs.push(`${identity} ${l}`) }));
  };
  const holder = async () => (await leases.readNamespacedLease(LEASE)).spec?.holderIdentity;
  const running = async (name: string) => (await api.getNamespacedCustomObject({ ...VMS, name })).status?.printableStatus === 'Running';

  beforeAll(async () => {
    server = await FakeApiServer.start({ installCrds: true });
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'wimaxvm-kc-')), 'config');
    writeFileSync(kubeconfig, server.kubeConfig().exportConfig());
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    leases = server.kubeConfig().makeApiClient(CoordinationV1Api);
    await server.kubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'wimaxvm-system' } } }); // where VLANs are claimed
  });
  afterAll(async () => server.stop());

  it('one replica acts; when it stops, the other takes over; nothing is done twice', async () => {
    const a = await replica('replica-a');
    await eventually(async () => (await holder()) === 'replica-a', 'a leads');
    const b = await replica('replica-b');
    const name = `le-${run}-1`;
    await api.createNamespacedCustomObject({ ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name }, spec: { memory: '64Mi' } } });
    await eventually(() => running(name), `${name} Running`);
    expect(a.controller.stats.reconciles).toBeGreaterThan(0);
    expect(b.controller.stats.reconciles).toBe(0); // the follower watches but never acts

    await a.stop(); // releases the lease
    await eventually(async () => (await holder()) === 'replica-b', 'b takes over', 10_000);
    const second = `le-${run}-2`;
    await api.createNamespacedCustomObject({ ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: second }, spec: { memory: '64Mi' } } });
    await eventually(() => running(second), `${second} Running under b`);
    // b looked at the first VM again and found nothing to do: no second define or start.
    await b.idle();
    expect(logs.filter((l) => l.startsWith('replica-b') && (l.includes(`"defined ${name}"`) || l.includes(`"started ${name}"`)))).toEqual([]);
    await b.stop();
  });

  it('a replica whose lease is taken over stops acting at once', async () => {
    const a = await replica('replica-c');
    await eventually(async () => (await holder()) === 'replica-c', 'c leads');
    // Another holder appears (as after a network partition): c cannot renew.
    const lease = await leases.readNamespacedLease(LEASE);
    await leases.replaceNamespacedLease({ ...LEASE, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', renewTime: new V1MicroTime(), acquireTime: new V1MicroTime() } } });
    let lost = false;
    void a.lostLeadership.then(() => (lost = true));
    await eventually(() => lost, 'c reports the lost lease', 10_000);
    // Its queue is shut: nothing it is told to do is done.
    a.controller.enqueue('VirtualMachine/default/anything');
    expect(a.controller.queue.length).toBe(0);
    await a.stop();
  });
});
