// VLAN claims in the API server, through the real @kubernetes/client-node against the double:
// create is the claim (409 AlreadyExists refuses a second holder), takeover and release run
// under preconditions, and each controller's watch learns of the others' claims.
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimName, KubeVlanClaims } from '../../src/adapters/kube-vlan-claims.js';
import { silentLogger } from '../../src/core/logger.js';
import { eventually } from '../helpers/harness.js';
import { FakeApiServer } from './api-server.js';

const NS = 'wimaxvm-system';
const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };
const run = Math.random().toString(36).slice(2, 6);

describe('VLAN claims in the API server', () => {
  let server: FakeApiServer;
  let leases: CoordinationV1Api;
  let api: CustomObjectsApi;
  const started: KubeVlanClaims[] = [];

  const controller = async (node: string, namespace = NS) => {
    const claims = new KubeVlanClaims({ kubeConfig: server.kubeConfig(), namespace, node, logger: silentLogger });
    await claims.start();
    started.push(claims);
    return claims;
  };
  /** A VM in the cluster: its key and uid. */
  const vm = async (name: string) => {
    const created = await api.createNamespacedCustomObject({ ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: `${run}-${name}` }, spec: { memory: '64Mi' } } });
    return { key: `VirtualMachine/default/${run}-${name}`, uid: created.metadata.uid as string, name: `${run}-${name}` };
  };
  const lease = (vlan: number) => leases.readNamespacedLease({ name: claimName(vlan), namespace: NS });

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

  // What the claims rely on, as the real server answers it (messages as kube-apiserver v1.28.7 gave them).
  it('the server rules claims rest on: 409 AlreadyExists on a second create, 409 on a stale uid or resourceVersion precondition', async () => {
    const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('succeeded'); }, (err) => ({ code: err.code, status: JSON.parse(err.body) }));
    const body = { metadata: { name: 'rules-check' }, spec: { holderIdentity: 'default/a' } };
    const created = await leases.createNamespacedLease({ namespace: NS, body });
    expect(await failure(leases.createNamespacedLease({ namespace: NS, body }))).toMatchObject({ code: 409, status: {
      reason: 'AlreadyExists', message: 'leases.coordination.k8s.io "rules-check" already exists', details: { name: 'rules-check', group: 'coordination.k8s.io', kind: 'leases' } } });
    const updated = await leases.replaceNamespacedLease({ name: 'rules-check', namespace: NS, body: { ...created, spec: { holderIdentity: 'default/b' } } });
    const remove = (preconditions: { uid?: string; resourceVersion?: string }) =>
      leases.deleteNamespacedLease({ name: 'rules-check', namespace: NS, body: { preconditions } });
    const cannot = 'Operation cannot be fulfilled on Lease.coordination.k8s.io "rules-check":';
    expect(await failure(remove({ uid: created.metadata!.uid!, resourceVersion: created.metadata!.resourceVersion! }))).toMatchObject({ code: 409, status: {
      reason: 'Conflict', details: { name: 'rules-check', group: 'coordination.k8s.io', kind: 'Lease' },
      message: `${cannot} the ResourceVersion in the precondition (${created.metadata!.resourceVersion}) does not match the ResourceVersion in record (${updated.metadata!.resourceVersion}). The object might have been modified` } });
    const otherUid = '00000000-0000-0000-0000-000000000000';
    expect(await failure(remove({ uid: otherUid }))).toMatchObject({ code: 409, status: {
      reason: 'Conflict', message: `${cannot} the UID in the precondition (${otherUid}) does not match the UID in record (${created.metadata!.uid}). The object might have been deleted and then recreated` } });
    await remove({ uid: updated.metadata!.uid!, resourceVersion: updated.metadata!.resourceVersion! });
    await expect(leases.readNamespacedLease({ name: 'rules-check', namespace: NS })).rejects.toMatchObject({ code: 404 });
  });

  it('create is the claim: the second holder is refused by the server and told who holds it', async () => {
    const [a, b] = [await controller('node-a'), await controller('node-b')];
    const [x, y] = [await vm('x1'), await vm('y1')];
    expect(await a.claim(5, x.key, x.uid)).toBe('granted');
    const stored = await lease(5);
    expect(stored.spec?.holderIdentity).toBe(`default/${x.name}`);
    expect(stored.metadata?.annotations).toMatchObject({ 'wimaxvm.io/holder-uid': x.uid, 'wimaxvm.io/node': 'node-a' });
    expect(await b.claim(5, y.key, y.uid)).toEqual({ heldBy: x.key, explicit: false });
    expect((await lease(5)).metadata?.resourceVersion).toBe(stored.metadata?.resourceVersion); // untouched
    // The holder asking again is granted, from what it knows, without a request.
    const before = server.requests.length;
    expect(await a.claim(5, x.key, x.uid)).toBe('granted');
    expect(server.requests.length).toBe(before);
    // A VM waiting for it, once the watch has told of the claim, reads instead of being refused a create.
    await eventually(() => b.list().some((c) => c.vlan === 5), 'node-b knows the claim');
    const waiting = server.requests.length;
    expect(await b.claim(5, y.key, y.uid)).toEqual({ heldBy: x.key, explicit: false });
    expect(server.requests.slice(waiting).filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('two controllers claiming one VLAN at the same moment: exactly one wins', async () => {
    const [a, b] = [await controller('node-a'), await controller('node-b')];
    const [x, y] = [await vm('x2'), await vm('y2')];
    const results = await Promise.all([a.claim(6, x.key, x.uid), b.claim(6, y.key, y.uid)]);
    expect(results.filter((r) => r === 'granted')).toHaveLength(1);
    const winner = results[0] === 'granted' ? x : y;
    expect(results).toContainEqual({ heldBy: winner.key, explicit: false });
    expect((await lease(6)).spec?.holderIdentity).toBe(`default/${winner.name}`);
  });

  it('the claim of a VM that no longer exists (or was made again under its name) is taken over', async () => {
    const [a, b] = [await controller('node-a'), await controller('node-b')];
    const [gone, y] = [await vm('gone'), await vm('y3')];
    expect(await a.claim(7, gone.key, gone.uid)).toBe('granted');
    await api.deleteNamespacedCustomObject({ ...VMS, name: gone.name });
    expect(await b.claim(7, y.key, y.uid)).toBe('granted');
    expect((await lease(7)).spec?.holderIdentity).toBe(`default/${y.name}`);

    const again = await vm('again');
    expect(await a.claim(8, again.key, 'uid-of-an-earlier-vm-of-that-name')).toBe('granted');
    expect(await b.claim(8, y.key, y.uid)).toBe('granted');
  });

  it('a claim says whether its VM names the VLAN; an automatic one can be asked for, and its node hears of it', async () => {
    const [a, b] = [await controller('node-a'), await controller('node-b')];
    const [x, y] = [await vm('x7'), await vm('y7')];
    const heardOnA: string[] = [];
    const heardOnB: string[] = [];
    a.onWanted((c) => heardOnA.push(`${c.vlan} ${c.wantedBy}`));
    b.onWanted((c) => heardOnB.push(`${c.vlan} ${c.wantedBy}`));
    expect(await a.claim(20, x.key, x.uid, true)).toBe('granted');
    expect(await b.claim(20, y.key, y.uid, true)).toEqual({ heldBy: x.key, explicit: true });
    await b.request(20, y.key); // explicit: not to be asked for
    expect((await lease(20)).metadata?.annotations?.['wimaxvm.io/wanted-by']).toBeUndefined();
    // x's spec stops naming 20: the same claim, now automatic.
    expect(await a.claim(20, x.key, x.uid, false)).toBe('granted');
    expect((await lease(20)).metadata?.annotations?.['wimaxvm.io/explicit']).toBe('false');
    expect(await b.claim(20, y.key, y.uid, true)).toEqual({ heldBy: x.key, explicit: false });
    await b.request(20, y.key);
    expect((await lease(20)).metadata?.annotations?.['wimaxvm.io/wanted-by']).toBe(`default/${y.name}`);
    await eventually(() => heardOnA.length > 0, 'node-a told that its VM is asked to move');
    expect(heardOnA).toEqual([`20 ${y.key}`]);
    expect(heardOnB).toEqual([]);
    await eventually(() => a.list().find((c) => c.vlan === 20)?.wantedBy === y.key, 'the request in the watched claims');
    // Named again by its holder: the request is void.
    expect(await a.claim(20, x.key, x.uid, true)).toBe('granted');
    expect((await lease(20)).metadata?.annotations?.['wimaxvm.io/wanted-by']).toBeUndefined();
  });

  it('a VM that moved node: its claim follows it; only the node that has it now gives it back', async () => {
    const [a, b] = [await controller('node-a'), await controller('node-b')];
    const x = await vm('moving');
    expect(await a.claim(9, x.key, x.uid)).toBe('granted');
    expect(await b.claim(9, x.key, x.uid)).toBe('granted');
    expect((await lease(9)).metadata?.annotations?.['wimaxvm.io/node']).toBe('node-b');
    await a.release(9, x.uid); // node-a's cleanup after the move
    expect((await lease(9)).spec?.holderIdentity).toBe(`default/${x.name}`);
    await b.release(9, x.uid);
    await expect(lease(9)).rejects.toMatchObject({ code: 404 });
  });

  it('a release by another VM leaves the claim; the watch tells every controller of claims and releases', async () => {
    const [a, b] = [await controller('node-a'), await controller('node-b')];
    const [x, y] = [await vm('x4'), await vm('y4')];
    const heard: number[] = [];
    b.onReleased((c) => heard.push(c.vlan));
    expect(await a.claim(10, x.key, x.uid)).toBe('granted');
    await eventually(() => b.list().some((c) => c.vlan === 10 && c.holderUid === x.uid), 'node-b sees the claim');
    await b.release(10, y.uid);
    expect((await lease(10)).spec?.holderIdentity).toBe(`default/${x.name}`);
    await a.release(10, x.uid);
    await eventually(() => heard.includes(10), 'node-b hears the release');
    expect(b.list().some((c) => c.vlan === 10)).toBe(false);
  });

  it('a Lease of that name that is no claim of ours is never touched', async () => {
    const a = await controller('node-a');
    const y = await vm('y5');
    await leases.createNamespacedLease({ namespace: NS, body: { metadata: { name: claimName(11) }, spec: { holderIdentity: 'someone-else' } } });
    expect(await a.claim(11, y.key, y.uid)).toEqual({ heldBy: `Lease/${NS}/${claimName(11)}`, explicit: true });
    await a.release(11, y.uid);
    expect((await lease(11)).spec?.holderIdentity).toBe('someone-else');
  });

  it("the server's refusal is reported in its own words, not as a conflict", async () => {
    const a = await controller('node-a', 'no-such-namespace');
    const y = await vm('y6');
    await expect(a.claim(12, y.key, y.uid)).rejects.toThrow(/claiming VLAN 12 in namespace no-such-namespace: namespaces "no-such-namespace" not found \(HTTP 404\)/);
  });
});
