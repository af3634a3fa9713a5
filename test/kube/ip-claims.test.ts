// IP claims in the API server, through the real @kubernetes/client-node against the double:
// create is the claim (409 AlreadyExists refuses a second holder), cluster-wide, so two
// controllers (or one restarted without its state) never hand one address twice.
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ipClaimName, KubeIpClaims } from '../../src/adapters/kube-ip-claims.js';
import { silentLogger } from '../../src/core/logger.js';
import { eventually } from '../helpers/harness.js';
import { FakeApiServer } from './api-server.js';

const NS = 'wimaxvm-system';
const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };
const run = Math.random().toString(36).slice(2, 6);

describe('IP claims in the API server', () => {
  let server: FakeApiServer;
  let leases: CoordinationV1Api;
  let api: CustomObjectsApi;
  const started: KubeIpClaims[] = [];

  const controller = async (node: string) => {
    const claims = new KubeIpClaims({ kubeConfig: server.kubeConfig(), namespace: NS, node, logger: silentLogger });
    await claims.start();
    started.push(claims);
    return claims;
  };
  const vm = async (name: string) => {
    const created = await api.createNamespacedCustomObject({ ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: `${run}-${name}` }, spec: { memory: '64Mi' } } });
    return { key: `VirtualMachine/default/${run}-${name}`, uid: created.metadata.uid as string, name: `${run}-${name}` };
  };
  const lease = (ip: string) => leases.readNamespacedLease({ name: ipClaimName(ip), namespace: NS });

  beforeAll(async () => {
    server = await FakeApiServer.start({ installCrds: true });
    leases = server.kubeConfig().makeApiClient(CoordinationV1Api);
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    await server.kubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
  });
  afterEach(async () => {
    for (const c of started.splice(0)) await c.stop();
  });
  afterAll(async () => server.stop());

  it('create is the claim: a second controller is refused and told who holds it; its watch knows the claim', async () => {
    const [a, b] = [await controller('node-a'), await controller('node-b')];
    const [x, y] = [await vm('x1'), await vm('y1')];
    expect(await a.claim('10.9.0.2', x.key, x.uid, 'default/lab')).toBe('granted');
    const stored = await lease('10.9.0.2');
    expect(stored.metadata?.name).toBe('wimaxvm-ip-10-9-0-2');
    expect(stored.spec?.holderIdentity).toBe(`default/${x.name}`);
    expect(stored.metadata?.annotations).toMatchObject({ 'wimaxvm.io/holder-uid': x.uid, 'wimaxvm.io/node': 'node-a', 'wimaxvm.io/pool': 'default/lab' });
    expect(await b.claim('10.9.0.2', y.key, y.uid, 'default/lab')).toEqual({ heldBy: x.key });
    await eventually(() => b.get('10.9.0.2')?.holderUid === x.uid, 'node-b knows the claim');
    expect(b.list()).toContainEqual({ ip: '10.9.0.2', holderKey: x.key, holderUid: x.uid, pool: 'default/lab' });
  });

  it('two controllers claiming one address at the same moment: exactly one wins', async () => {
    const [a, b] = [await controller('node-a'), await controller('node-b')];
    const [x, y] = [await vm('x2'), await vm('y2')];
    const results = await Promise.all([a.claim('10.9.0.3', x.key, x.uid), b.claim('10.9.0.3', y.key, y.uid)]);
    expect(results.filter((r) => r === 'granted')).toHaveLength(1);
  });

  it('a restarted controller (nothing remembered) is refused an address another VM holds', async () => {
    const x = await vm('x3');
    const y = await vm('y3');
    const first = await controller('');
    expect(await first.claim('10.9.0.4', x.key, x.uid)).toBe('granted');
    await first.stop();
    const restarted = await controller('');
    expect(restarted.get('10.9.0.4')?.holderKey).toBe(x.key); // listed at start
    expect(await restarted.claim('10.9.0.4', y.key, y.uid)).toEqual({ heldBy: x.key });
  });

  it('the claim of a VM that no longer exists is taken over; a moved VM\'s claim follows it; only its node releases', async () => {
    const [a, b] = [await controller('node-a'), await controller('node-b')];
    const [gone, y, moving] = [await vm('gone'), await vm('y4'), await vm('moving')];
    expect(await a.claim('10.9.0.5', gone.key, gone.uid)).toBe('granted');
    await api.deleteNamespacedCustomObject({ ...VMS, name: gone.name });
    expect(await b.claim('10.9.0.5', y.key, y.uid)).toBe('granted');
    expect((await lease('10.9.0.5')).spec?.holderIdentity).toBe(`default/${y.name}`);

    expect(await a.claim('10.9.0.6', moving.key, moving.uid)).toBe('granted');
    expect(await b.claim('10.9.0.6', moving.key, moving.uid)).toBe('granted');
    expect((await lease('10.9.0.6')).metadata?.annotations?.['wimaxvm.io/node']).toBe('node-b');
    await a.release('10.9.0.6', moving.uid); // node-a's cleanup after the move
    expect((await lease('10.9.0.6')).spec?.holderIdentity).toBe(`default/${moving.name}`);
    const heard: string[] = [];
    a.onChange((c, change) => heard.push(`${change} ${c.ip}`));
    await b.release('10.9.0.6', moving.uid);
    await expect(lease('10.9.0.6')).rejects.toMatchObject({ code: 404 });
    await eventually(() => heard.includes('released 10.9.0.6'), 'node-a hears the release');
  });
});
