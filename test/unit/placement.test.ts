import { describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../src/api/hypervisor.js';
import type { VirtualMachineSpec } from '../../src/api/virtual-machine.js';
import { decidePlacement, type PlacementInput, type PlacedVm } from '../../src/hosts/placement.js';
import { stepHarness, vmNamed } from '../helpers/vm-steps.js';
import { buildDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { describeMove, type MigrationJob } from '../../src/hosts/migrations.js';
import { placementStep, type PlacementView } from '../../src/reconcilers/virtual-machine/steps/placement.js';

const Gi = 2 ** 30;
function hv(name: string, opts: { ready?: boolean; labels?: Record<string, string>; memGi?: number; cordoned?: boolean } = {}): Hypervisor {
  return {
    apiVersion: 'wimaxvm.io/v1alpha1', kind: 'Hypervisor',
    metadata: { name, namespace: 'default', uid: name, generation: 1, creationTimestamp: '', labels: opts.labels ?? {} },
    spec: { uri: `qemu+ssh://${name}/system`, ...(opts.cordoned ? { unschedulable: true } : {}) },
    status: {
      observedGeneration: 1, capacity: { memory: `${(opts.memGi ?? 8) * 1024 * 1024}Ki`, vcpus: 4 },
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', reason: 'x', message: '', observedGeneration: 1, lastTransitionTime: '' }],
    },
  };
}
const spec = (s: Partial<VirtualMachineSpec> = {}): VirtualMachineSpec => ({ runStrategy: 'Always', memory: '1Gi', vcpus: 1, ...s });
type Over = Partial<Omit<PlacementInput, 'placed'>> & { placed?: PlacedVm[] };
const input = ({ placed = [], ...over }: Over): PlacementInput => ({ vmKey: 'VirtualMachine/default/v', spec: spec(), definedLocally: false, hypervisors: [hv('a'), hv('b')], localHost: 'a', placed: () => placed, ...over });

describe('decidePlacement', () => {
  it.each<[string, Over, string, string?]>([
    ['no Hypervisors declared: nothing decided', { hypervisors: [] }, 'unmanaged'],
    ['the scheduler: the emptier host (a holds a VM)', { placed: [{ key: 'x', domainName: 'x', nodeName: 'a', memoryBytes: 2 * Gi, vcpus: 2 }] }, 'elsewhere', 'b'],
    ['the scheduler: the local host when it is the best', { placed: [{ key: 'x', domainName: 'x', nodeName: 'b', memoryBytes: 2 * Gi, vcpus: 2 }] }, 'here', 'a'],
    ['its own earlier placement is not counted against it', { placed: [{ key: 'VirtualMachine/default/v', domainName: 'v', nodeName: 'a', memoryBytes: 7 * Gi, vcpus: 1 }], spec: spec({ memory: '2Gi' }) }, 'here', 'a'],
    ['sticky: where it was placed before', { previousNodeName: 'b' }, 'elsewhere', 'b'],
    ['spec.nodeName wins over an earlier placement', { previousNodeName: 'b', spec: spec({ nodeName: 'a' }) }, 'here', 'a'],
    ['a guest already defined here stays here, whatever spec.nodeName says', { definedLocally: true, spec: spec({ nodeName: 'b' }) }, 'here', 'a'],
    ['selector', { spec: spec({ nodeSelector: { rack: 'r2' } }), hypervisors: [hv('a', { labels: { rack: 'r1' } }), hv('b', { labels: { rack: 'r2' } })] }, 'elsewhere', 'b'],
    ['no --connect among the Hypervisors: every placement is elsewhere', { localHost: undefined }, 'elsewhere', 'a'],
  ])('%s', (_name, over, kind, nodeName) => {
    const d = decidePlacement(input(over));
    expect(d.kind).toBe(kind);
    if (nodeName) expect((d as { nodeName: string }).nodeName).toBe(nodeName);
  });

  it('a running guest whose spec.nodeName names another Ready, driven host: migrate; to a host not Ready or not driven: it stays', () => {
    expect(decidePlacement(input({ definedLocally: true, currentHost: 'a', spec: spec({ nodeName: 'b' }), drives: () => true }))).toEqual({ kind: 'migrate', from: 'a', to: 'b' });
    expect(decidePlacement(input({ definedLocally: true, currentHost: 'b', previousNodeName: 'a', spec: spec({ nodeName: 'b' }), drives: () => true }))).toMatchObject({ kind: 'here', nodeName: 'b' });
    expect(decidePlacement(input({ definedLocally: true, spec: spec({ nodeName: 'b' }), hypervisors: [hv('a'), hv('b', { ready: false })], drives: () => true })))
      .toEqual({ kind: 'here', nodeName: 'a', message: 'runs on a; spec.nodeName names b, which is not a Ready hypervisor this controller drives: it stays' });
    expect(decidePlacement(input({ definedLocally: true, spec: spec({ nodeName: 'b' }) })).kind).toBe('here');
  });

  it('Kubernetes mode (movableTo: other nodes this node can reach): a guest here moves to the node spec.nodeName names; once moved it is that node\'s, whatever is left here', () => {
    const kube = { definedLocally: true, previousNodeName: 'a', movableTo: (h: string) => h === 'b' };
    expect(decidePlacement(input({ ...kube, spec: spec({ nodeName: 'b' }) }))).toEqual({ kind: 'migrate', from: 'a', to: 'b' });
    expect(decidePlacement(input({ ...kube, spec: spec({ nodeName: 'c' }), hypervisors: [hv('a'), hv('b'), hv('c')] })))
      .toEqual({ kind: 'here', nodeName: 'a', message: 'runs on a; spec.nodeName names c, which is not a Ready hypervisor this node can move it to: it stays' });
    expect(decidePlacement(input({ ...kube, spec: spec({ nodeName: 'b' }), hypervisors: [hv('a'), hv('b', { ready: false })] })).kind).toBe('here');
    // Moved (the old definition still here, or gone already): handed over, never defined here again.
    for (const definedLocally of [true, false]) {
      expect(decidePlacement(input({ ...kube, definedLocally, currentHost: 'b', spec: spec({ nodeName: 'b' }) }))).toEqual({ kind: 'elsewhere', nodeName: 'b', message: 'moved to b, whose controller runs it' });
      expect(decidePlacement(input({ ...kube, definedLocally, currentHost: 'b' })).kind).toBe('elsewhere');
    }
    // Not defined here yet and pinned elsewhere: the other node runs it (nothing to move).
    expect(decidePlacement(input({ movableTo: (h: string) => h === 'b', spec: spec({ nodeName: 'b' }), previousNodeName: 'a' }))).toMatchObject({ kind: 'elsewhere', nodeName: 'b' });
  });

  it('a drained host (cordoned + the drain annotation): its scheduler-placed VMs move to where the scheduler puts them; pinned ones and a cordon alone keep them', () => {
    const drained = (name: string, annotated = true): Hypervisor => {
      const h = hv(name, { cordoned: true });
      return { ...h, metadata: { ...h.metadata, annotations: annotated ? { 'wimaxvm.io/drain': '2026-12-03T07:00:00Z' } : {} } };
    };
    const on = { definedLocally: true, currentHost: 'a', drives: () => true };
    expect(decidePlacement(input({ ...on, hypervisors: [drained('a'), hv('b')] }))).toEqual({ kind: 'migrate', from: 'a', to: 'b', drain: '2026-12-03T07:00:00Z' });
    expect(decidePlacement(input({ ...on, hypervisors: [drained('a', false), hv('b')] }))).toMatchObject({ kind: 'here', nodeName: 'a' });
    expect(decidePlacement(input({ ...on, spec: spec({ nodeName: 'a' }), hypervisors: [drained('a'), hv('b')] }))).toMatchObject({ kind: 'here', nodeName: 'a', message: 'runs on a' });
    expect(decidePlacement(input({ ...on, hypervisors: [drained('a'), hv('b', { ready: false })] }))).toEqual({
      kind: 'here', nodeName: 'a', reason: 'DrainBlocked',
      message: 'runs on a, which is being drained; it stays: 0/2 hypervisors are available: 1 hypervisor(s) were cordoned, 1 hypervisor(s) were not ready.',
    });
    expect(decidePlacement(input({ ...on, hypervisors: [drained('a'), hv('b')], drives: (h) => h === 'a' }))).toMatchObject({ kind: 'here', reason: 'DrainBlocked', message: 'runs on a, which is being drained; it stays: the scheduler chose b, which this controller cannot move it to' });
  });

  it("nothing fits: kube-scheduler's summary and the reason of each host", () => {
    const d = decidePlacement(input({ spec: spec({ memory: '6Gi' }), hypervisors: [hv('a', { memGi: 4 }), hv('b', { ready: false }), hv('c', { cordoned: true })] }));
    expect(d).toEqual({
      kind: 'unschedulable',
      message: '0/3 hypervisors are available: 1 Insufficient memory, 1 hypervisor(s) were cordoned, 1 hypervisor(s) were not ready.',
      reasons: { a: ['Insufficient memory'], b: ['hypervisor(s) were not ready'], c: ['hypervisor(s) were cordoned'] },
    });
  });

  it('a Hypervisor without figures yet (never reached) takes nothing', () => {
    const fresh = { ...hv('a'), status: undefined };
    expect(decidePlacement(input({ hypervisors: [fresh] })).kind).toBe('unschedulable');
  });
});

describe('placement step', () => {
  const view = (hypervisors: Hypervisor[], localHost = 'a'): PlacementView => ({ hypervisors: () => hypervisors, localHost: () => localHost, placed: () => [] });

  it('placed here: status.nodeName and Scheduled=True, and the later steps run (the guest is defined)', async () => {
    const h = stepHarness({ placement: view([hv('a')]) });
    const out = await h.run([placementStep], vmNamed('p1'));
    expect(out.status?.nodeName).toBe('a');
    expect(out.status?.conditions.find((c) => c.type === 'Scheduled')).toMatchObject({ status: 'True', reason: 'Scheduled', message: 'the scheduler placed it on a' });
  });

  it('unschedulable: Pending, Scheduled=False with the message, requeued, nothing defined', async () => {
    const h = stepHarness({ placement: view([hv('a', { memGi: 1 })]) });
    const out = await h.run([placementStep], vmNamed('p2', { memory: '2Gi' }));
    expect(out.status?.printableStatus).toBe('Pending');
    expect(out.status?.nodeName).toBeUndefined();
    expect(out.status?.conditions.find((c) => c.type === 'Scheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message: '0/1 hypervisors are available: 1 Insufficient memory.' });
    expect(out.result).toEqual({ requeueAfterMs: 15_000 });
  });

  it('a move under way: Migrating with libvirt\'s figures in the message, requeued in a second; a failed one says why and stays', async () => {
    const job: MigrationJob = { from: 'a', to: 'b', done: false, mode: 'live', startedAt: 0, progress: { processedBytes: 50 * 2 ** 20, remainingBytes: 70 * 2 ** 20, totalBytes: 128 * 2 ** 20, elapsedMs: 900 } };
    const started: string[] = [];
    const moving: PlacementView = { ...view([hv('a'), hv('b')]), drives: () => true, hostOf: () => 'a', migrate: (d, from, to) => { started.push(`${d} ${from}->${to}`); return job; } };
    const h = stepHarness({ placement: moving });
    await h.hv.define(buildDomainXml({ name: 'm1', uuid: '11111111-1111-4111-8111-111111111111', type: 'test', memoryKiB: 65536, vcpus: 1, diskPaths: [], mac: '52:54:00:00:00:01', nic: { type: 'user' }, owner: { uid: 'u', namespace: 'default', name: 'm1', generation: 1, specHash: 'h', mac: '52:54:00:00:00:01' } }));
    const out = await h.run([placementStep], vmNamed('m1', { nodeName: 'b' }));
    expect(started).toEqual(['m1 a->b']);
    expect(out.status?.printableStatus).toBe('Migrating');
    expect(out.status?.conditions.find((c) => c.type === 'Scheduled')).toMatchObject({ reason: 'Migrating', message: 'live migration from a to b: 45 % (58 of 128 MiB)' });
    expect(out.result).toEqual({ requeueAfterMs: 1000 });
    // While it runs, it is followed whatever the hosts say (its incoming copy fills b already).
    const full: PlacementView = { ...moving, hypervisors: () => [hv('a', { cordoned: true }), hv('b', { memGi: 0 })], moveUnderWay: () => (job.done ? undefined : job) };
    const followed = await stepHarness({ placement: full }).run([placementStep], vmNamed('m2'));
    expect([followed.status?.printableStatus, followed.status?.nodeName, followed.result]).toEqual(['Migrating', 'a', { requeueAfterMs: 1000 }]);
    Object.assign(job, { done: true, mode: 'cold', error: 'b: no room', progress: undefined });
    const failed = await h.run([placementStep], vmNamed('m1', { nodeName: 'b' }));
    expect(failed.status?.conditions.find((c) => c.type === 'Scheduled')).toMatchObject({ reason: 'MigrationFailed', message: 'cold move to b failed: b: no room; it stays on a (not tried again until its spec, its power state or the destination changes)' });
    expect(failed.status?.nodeName).toBe('a');
  });

  it.each<[string, Partial<MigrationJob>, boolean, string]>([
    ['cold, no figures', { mode: 'cold' }, false, 'cold move from a to b in progress'],
    ['live, not started moving', { mode: 'live' }, false, 'live migration from a to b in progress'],
    ['a drain, live, done', { mode: 'live', progress: { processedBytes: 2 ** 30, remainingBytes: 0, totalBytes: 2 ** 30, elapsedMs: 1 } }, true, 'draining a: live migration from a to b: 100 % (1024 of 1024 MiB)'],
    ['whole percent, rounded down', { mode: 'live', progress: { processedBytes: 999, remainingBytes: 1, totalBytes: 1000, elapsedMs: 1 } }, false, 'live migration from a to b: 99 % (0 of 0 MiB)'],
    ['zero pages skipped: done is what no longer remains', { mode: 'live', progress: { processedBytes: 98753794, remainingBytes: 0, totalBytes: 139272192, elapsedMs: 14064 } }, false, 'live migration from a to b: 100 % (133 of 133 MiB)'],
  ])('describeMove: %s', (_name, over, drain, text) => {
    expect(describeMove({ from: 'a', to: 'b', done: false, startedAt: 0, ...over }, drain)).toBe(text);
  });

  it('without the hosts part: spec.nodeName shows in status.nodeName, no condition', async () => {
    const h = stepHarness();
    const out = await h.run([placementStep], vmNamed('p3', { nodeName: 'node-7' }));
    expect(out.status?.nodeName).toBe('node-7');
    expect(out.status?.conditions.find((c) => c.type === 'Scheduled')).toBeUndefined();
  });
});
