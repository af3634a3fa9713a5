// Many hosts in Kubernetes mode (issue 11): two nodes' controllers (DaemonSet mode, --node-name)
// against one API server (the double), each on a hypervisor of its own: node-a on libvirt's
// in-process test driver, node-b on a private libvirtd's test driver (test+unix, its own state).
// Each registers its Hypervisor and renews its heartbeat; the placement leader places the VMs
// that name no node (status.nodeName), each node runs those placed on it, VLANs are unique
// testbed-wide, and a node that goes away leaves its VMs Unknown, not recreated elsewhere.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { createLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import { HypervisorObjects } from '../../src/hosts/kube/hypervisor-objects.js';
import { PLACEMENT_LEASE } from '../../src/hosts/kube/placement-leader.js';
import type { KubeObject } from '../../src/sources/kube-source.js';
import { eventually } from '../helpers/harness.js';
import { PrivateLibvirtd, privateLibvirtdEnabled } from '../helpers/private-libvirtd.js';
import { USER_AGENT } from '../../src/adapters/kube-client-identity.js';
import { attributesOf, refusedCalls } from './rbac-rules.js';
import type { FakeApiServer } from './api-server.js';
import { startCluster } from './cluster-fixture.js';

const run = Math.random().toString(36).slice(2, 6);
const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };
const HVS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'hypervisors' };
const [NODE_A, NODE_B] = [`hk-${run}-a`, `hk-${run}-b`];

interface Condition { type: string; status: string; reason: string; message: string }
interface VmStatus { printableStatus?: string; nodeName?: string; allocations?: { vlan?: number }; conditions?: Condition[] }
interface HvStatus { capacity?: { memory: string; vcpus: number }; vms?: string[]; conditions?: Condition[] }

describe.runIf(privateLibvirtdEnabled())('many hosts in Kubernetes mode: registration, placement by the leader, a lost node', () => {
  let server: FakeApiServer;
  let kubeconfig: string;
  let api: CustomObjectsApi;
  let leases: CoordinationV1Api;
  const daemon = new PrivateLibvirtd();
  const nodes: Record<string, RunningController> = {};
  const logs: string[] = [];

  const startNode = async (name: string, connect: string) => {
    const config = buildConfig({
      source: 'kube', kubeconfig, 'node-name': name, connect, 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-hk-')),
      listen: 'off', poll: '100ms', resync: '10m', 'shutdown-timeout': '1s',
    });
    // Heartbeats renewed every 0.5 s and called lost after 8 s of silence; the placement Lease
    // renewed every 0.5 s (a call may take 1 s) and lost after 6 s without a renewal.
    config.kube!.hosts = {
      heartbeat: { leaseDurationMs: 8_000, renewMs: 500 }, refreshMs: 1_000, checkMs: 500,
      election: { leaseDurationMs: 8_000, renewDeadlineMs: 6_000, retryPeriodMs: 500 },
    };
    nodes[name] = await startController(config, createLogger({ level: 'info', format: 'json', write: (l) => logs.push(`${name} ${l}`) }));
  };
  const create = (name: string, spec: Record<string, unknown> = {}) => api.createNamespacedCustomObject({
    ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name }, spec: { memory: '64Mi', vcpus: 1, ...spec } },
  });
  const vm = async (name: string) => (await api.getNamespacedCustomObject({ ...VMS, name })) as KubeObject & { status?: VmStatus };
  const hv = async (name: string) => (await api.getClusterCustomObject({ ...HVS, name })) as { spec: { uri: string }; status?: HvStatus };
  const domainsOf = async (node: string) => (await nodes[node]!.hypervisor.listDomains()).map((d) => d.name).filter((n) => n.startsWith(`hk-${run}`)).sort();
  const ready = (s: { conditions?: Condition[] } | undefined) => s?.conditions?.find((c) => c.type === 'Ready');

  beforeAll(async () => {
    ({ server, kubeconfig } = await startCluster());
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    leases = server.kubeConfig().makeApiClient(CoordinationV1Api);
    await daemon.start();
    await startNode(NODE_A, 'test:///default');
    await startNode(NODE_B, `test+unix:///default?socket=${daemon.socket}`);
  }, 60_000);
  afterAll(async () => {
    if (process.env.HOSTS_KUBE_LOG) writeFileSync(process.env.HOSTS_KUBE_LOG, logs.join('\n'));
    for (const r of Object.values(nodes)) await r.stop();
    await server?.stop();
    await daemon.dispose();
  });

  const placed = [0, 1, 2, 3, 4, 5].map((i) => `hk-${run}-vm${i}`);
  const tooBig = `hk-${run}-huge`;

  it('each node registers its Hypervisor (its URI, capacity, Ready) and renews its heartbeat; one of them leads placement', async () => {
    for (const [node, uri] of [[NODE_A, 'test:///default'], [NODE_B, `test+unix:///default?socket=${daemon.socket}`]] as const) {
      const object = await eventually(async () => {
        const o = await hv(node).catch(() => undefined);
        return ready(o?.status)?.status === 'True' ? o : undefined;
      }, `Hypervisor ${node} Ready`);
      expect(object.spec.uri).toBe(uri);
      expect(object.status?.capacity?.vcpus).toBeGreaterThan(0);
      expect(object.status?.capacity?.memory).toMatch(/^\d+Ki$/);
      const beat = await leases.readNamespacedLease({ name: `wimaxvm-hv-${node}`, namespace: 'wimaxvm-system' });
      expect(beat.spec?.holderIdentity).toBe(node);
    }
    const holder = await eventually(async () => (await leases.readNamespacedLease({ name: PLACEMENT_LEASE, namespace: 'wimaxvm-system' }).catch(() => undefined))?.spec?.holderIdentity, 'a placement leader');
    expect([NODE_A, NODE_B]).toContain(holder);
    expect(Object.entries(nodes).filter(([, r]) => r).length).toBe(2);
  });

  it('the leader places VMs without a node, spread over both; each runs on exactly one node with a VLAN of its own; one that fits nowhere is Pending', async () => {
    await Promise.all([...placed.map((name) => create(name)), create(tooBig, { memory: '900Gi' })]);
    const statuses = await eventually(async () => {
      const got: VmStatus[] = [];
      for (const name of placed) {
        const s = (await vm(name)).status;
        if (s?.printableStatus !== 'Running' || !s.nodeName || s.allocations?.vlan === undefined) return undefined;
        got.push(s);
      }
      return got;
    }, 'every VM Running on a node');
    const onA = placed.filter((_, i) => statuses[i]!.nodeName === NODE_A).sort();
    const onB = placed.filter((_, i) => statuses[i]!.nodeName === NODE_B).sort();
    // Equal hosts, LeastAllocated: the leader alternates, counting what it placed a moment ago.
    expect([onA.length, onB.length]).toEqual([3, 3]);
    // Each VM's domain on its node only: never both.
    expect(await domainsOf(NODE_A)).toEqual(onA);
    expect(await domainsOf(NODE_B)).toEqual(onB);
    const vlans = statuses.map((s) => s.allocations!.vlan!);
    expect(new Set(vlans).size).toBe(placed.length);
    for (const [i, name] of placed.entries()) {
      expect((await leases.readNamespacedLease({ name: `wimaxvm-vlan-${vlans[i]}`, namespace: 'wimaxvm-system' })).spec?.holderIdentity).toBe(`default/${name}`);
    }
    // The nodes' Hypervisors list what they run.
    await eventually(async () => JSON.stringify((await hv(NODE_A)).status?.vms?.filter((n) => n.startsWith(`hk-${run}`))) === JSON.stringify(onA), `${NODE_A} lists its VMs`);
    await eventually(async () => JSON.stringify((await hv(NODE_B)).status?.vms?.filter((n) => n.startsWith(`hk-${run}`))) === JSON.stringify(onB), `${NODE_B} lists its VMs`);

    const huge = await eventually(async () => {
      const s = (await vm(tooBig)).status;
      return s?.printableStatus === 'Pending' ? s : undefined;
    }, `${tooBig} Pending`);
    expect(huge.nodeName).toBeUndefined();
    expect(huge.conditions?.find((c) => c.type === 'Scheduled')).toMatchObject({
      status: 'False', reason: 'Unschedulable', message: '0/2 hypervisors are available: 2 Insufficient memory.',
    });
    expect([...await domainsOf(NODE_A), ...await domainsOf(NODE_B)]).not.toContain(tooBig);
  });

  it('a placement is written only over the VM as the leader read it: a stale resourceVersion gets 409 (two leaders never both place)', async () => {
    const name = `hk-${run}-race`;
    await create(name, { runStrategy: 'Halted' });
    const stale = await vm(name);
    await eventually(async () => (await vm(name)).metadata.resourceVersion !== stale.metadata.resourceVersion, `${name} changed after the read`);
    const objects = new HypervisorObjects(server.kubeConfig());
    const error = await objects.replaceVmStatus(stale, { ...stale.status, nodeName: NODE_A }).then(() => undefined, (e) => e as { code: number });
    expect(error?.code).toBe(409);
  });

  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const patchVm = (name: string, spec: Record<string, unknown>) => api.patchNamespacedCustomObject({ ...VMS, name, body: { spec } }, merge);
  const condition = (s: VmStatus | undefined, type: string) => s?.conditions?.find((c) => c.type === type);
  const domainOn = async (node: string, name: string) => (await nodes[node]!.hypervisor.listDomains()).find((d) => d.name === name);
  /** node-a removes its old definition once its own watch has seen the handover, which may come after node-b's status. */
  const oldDefinitionGone = (name: string) => eventually(async () => (await domainOn(NODE_A, name)) === undefined, `${name}'s old definition gone from ${NODE_A}`);
  /** The VM's status once the node it runs on has observed its spec as it is now. */
  const settled = async (name: string, what: (s: VmStatus) => boolean, label: string) => eventually(async () => {
    const o = await vm(name);
    const s = o.status as (VmStatus & { observedGeneration?: number }) | undefined;
    return s && s.observedGeneration === o.metadata.generation && what(s) ? s : undefined;
  }, label);

  it('spec.nodeName names another node: the node that runs the VM moves it there (live where libvirt can, else cold), hands it over, and it keeps its VLAN, MAC and uuid', async () => {
    const name = `hk-${run}-mover`;
    await create(name, { nodeName: NODE_A });
    const before = await settled(name, (s) => s.printableStatus === 'Running', `${name} Running on ${NODE_A}`);
    const uuid = (await domainOn(NODE_A, name))!.uuid;
    // libvirt's test driver cannot migrate a running guest: the live move fails and the guest keeps running where it was.
    await patchVm(name, { nodeName: NODE_B });
    const failed = await settled(name, (s) => condition(s, 'Scheduled')?.reason === 'MigrationFailed', `${name} live migration failed`);
    expect(failed).toMatchObject({ printableStatus: 'Running', nodeName: NODE_A });
    expect(condition(failed, 'Scheduled')?.message).toMatch(new RegExp(`^live migration to ${NODE_B} failed: .+; it stays on ${NODE_A}`));
    expect((await domainOn(NODE_A, name))?.state).toBe('running');
    expect(await domainOn(NODE_B, name)).toBeUndefined();
    // Stopped, it moves cold: defined on node-b, its old definition removed with the gate's permit, handed over.
    await patchVm(name, { runStrategy: 'Halted' });
    const moved = await settled(name, (s) => s.nodeName === NODE_B && s.printableStatus === 'Stopped', `${name} Stopped on ${NODE_B}`);
    await oldDefinitionGone(name);
    expect((await domainOn(NODE_B, name))?.uuid).toBe(uuid);
    expect(moved.allocations).toMatchObject({ vlan: before.allocations!.vlan, mac: (before.allocations as { mac?: string }).mac });
    expect((await leases.readNamespacedLease({ name: `wimaxvm-vlan-${before.allocations!.vlan}`, namespace: 'wimaxvm-system' })).spec?.holderIdentity).toBe(`default/${name}`);
    // Node-b's controller runs it now.
    await patchVm(name, { runStrategy: 'Always' });
    await settled(name, (s) => s.nodeName === NODE_B && s.printableStatus === 'Running', `${name} Running on ${NODE_B}`);
    expect((await domainOn(NODE_B, name))?.state).toBe('running');
    expect(await domainOn(NODE_A, name)).toBeUndefined();
    await eventually(() => logs.some((l) => l.startsWith(NODE_A) && l.includes(`handed over to node ${NODE_B}`) && l.includes(name)), `${NODE_A} to say it handed ${name} over`);
  });

  it('a drained node (cordoned and annotated): its node moves the VMs the scheduler placed there to another node; uncordoned, new VMs go there again', async () => {
    const name = `hk-${run}-drained`;
    await create(name, { nodeName: NODE_A, runStrategy: 'Halted' });
    await settled(name, (s) => s.printableStatus === 'Stopped' && s.nodeName === NODE_A, `${name} Stopped on ${NODE_A}`);
    await patchVm(name, { nodeName: null }); // unpinned: it stays where it is (placement is sticky)
    await settled(name, (s) => s.nodeName === NODE_A, `${name} unpinned`);
    await api.patchClusterCustomObject({ ...HVS, name: NODE_A, body: { spec: { unschedulable: true }, metadata: { annotations: { 'wimaxvm.io/drain': new Date().toISOString() } } } }, merge);
    try {
      await settled(name, (s) => s.nodeName === NODE_B && s.printableStatus === 'Stopped', `${name} moved off the drained ${NODE_A}`);
      await oldDefinitionGone(name);
      expect(await domainOn(NODE_B, name)).toBeDefined();
    } finally {
      await api.patchClusterCustomObject({ ...HVS, name: NODE_A, body: { spec: { unschedulable: null }, metadata: { annotations: { 'wimaxvm.io/drain': null } } } }, merge);
    }
  });

  it('a node whose controller goes away: its Hypervisor Ready=False, its VMs Unknown and on no other node; new VMs go to the node that is left', async () => {
    const leaderBefore = (await leases.readNamespacedLease({ name: PLACEMENT_LEASE, namespace: 'wimaxvm-system' })).spec?.holderIdentity;
    const onB = await domainsOf(NODE_B);
    expect(onB.length).toBeGreaterThan(0);
    const onA = await domainsOf(NODE_A);
    await nodes[NODE_B]!.stop();
    delete nodes[NODE_B];
    const lost = await eventually(async () => {
      const s = (await hv(NODE_B)).status;
      return ready(s)?.reason === 'HeartbeatStopped' ? ready(s) : undefined;
    }, `${NODE_B} lost`, 60_000);
    expect(lost?.status).toBe('False');
    // The leader that is left (node-b may have been it: then node-a took over).
    expect((await leases.readNamespacedLease({ name: PLACEMENT_LEASE, namespace: 'wimaxvm-system' })).spec?.holderIdentity).toBe(NODE_A);
    expect([NODE_A, NODE_B]).toContain(leaderBefore);
    for (const name of onB.filter((n) => placed.includes(n))) {
      const s = await eventually(async () => {
        const status = (await vm(name)).status;
        return status?.printableStatus === 'Unknown' ? status : undefined;
      }, `${name} Unknown`);
      expect(s.nodeName).toBe(NODE_B);
      expect(ready(s)).toMatchObject({ status: 'Unknown', reason: 'HypervisorNotReady' });
    }
    // Nothing of node-b's came to node-a; node-b's domains are still there (nothing deleted them).
    const late = `hk-${run}-late`;
    await create(late);
    await eventually(async () => (await vm(late)).status?.printableStatus === 'Running', `${late} Running`);
    expect((await vm(late)).status?.nodeName).toBe(NODE_A);
    expect(await domainsOf(NODE_A)).toEqual([...onA, late].sort());
    const stillOnB = execFileSync('virsh', ['-c', `test+unix:///default?socket=${daemon.socket}`, 'list', '--all', '--name'], { encoding: 'utf8' });
    for (const name of onB) expect(stillOnB).toContain(name);
    for (const name of onA.filter((n) => placed.includes(n))) expect((await vm(name)).status?.printableStatus).toBe('Running');
  }, 180_000);

  it('the shipped RBAC allows every call the two nodes made (registration, heartbeats, placement, marking a node lost)', () => {
    const calls = server.requests.filter((r) => r.userAgent === USER_AGENT);
    expect(refusedCalls(calls)).toEqual([]);
    const seen = new Set(calls.map(attributesOf).filter((a) => a).map((a) => `${a!.verb} ${a!.group || 'core'}/${a!.resource}${a!.namespace ? ` in ${a!.namespace}` : ''}`));
    for (const needed of [
      'create wimaxvm.io/hypervisors', 'patch wimaxvm.io/hypervisors/status', 'update wimaxvm.io/hypervisors/status', 'watch wimaxvm.io/hypervisors',
      'update wimaxvm.io/virtualmachines/status in default', 'list coordination.k8s.io/leases in wimaxvm-system', 'update coordination.k8s.io/leases in wimaxvm-system',
    ]) expect(seen, needed).toContain(needed);
  });
});
