// Kubernetes mode moves a running guest between two real hypervisors (issue 11): two nodes'
// controllers (DaemonSet mode) against the API-server double, each on a libvirtd of the test's
// own (PrivateLibvirtd: QEMU, its own sockets, state and host_uuid), each advertising its
// daemon's URI. A new spec.nodeName makes the node that runs the guest migrate it live (libvirt
// peer-to-peer) to the other node and hand it over; `wimaxvm drain --source kube` of that node
// moves it back the same way. Guests without an OS: a live migration moves their memory, no disk (a real guest's
// migration, counter and all, is test/system/two-hypervisors.test.ts).
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { createLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import type { KubeObject } from '../../src/sources/kube-source.js';
import { eventually } from '../helpers/harness.js';
import { cli } from '../helpers/run-cli.js';
import { PrivateLibvirtd, privateLibvirtdEnabled } from '../helpers/private-libvirtd.js';
import type { FakeApiServer } from '../kube/api-server.js';
import { startCluster } from '../kube/cluster-fixture.js';

const run = Math.random().toString(36).slice(2, 6);
const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };
const HVS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'hypervisors' };
const [NODE_A, NODE_B] = [`klm-${run}-a`, `klm-${run}-b`];
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Condition { type: string; status: string; reason: string; message: string }
interface VmStatus { printableStatus?: string; nodeName?: string; observedGeneration?: number; allocations?: { mac?: string; uuid?: string }; conditions?: Condition[] }

const names = (d: PrivateLibvirtd): string[] => d.virsh('list', '--all', '--name').split('\n').map((l) => l.trim()).filter(Boolean);

describe.runIf(privateLibvirtdEnabled())('Kubernetes mode: a running guest moved live between two real hypervisors, by spec.nodeName and by a drain', () => {
  let server: FakeApiServer;
  let kubeconfig: string;
  let api: CustomObjectsApi;
  const daemons = { [NODE_A]: new PrivateLibvirtd({ hostUuid: randomUUID() }), [NODE_B]: new PrivateLibvirtd({ hostUuid: randomUUID() }) };
  const nodes: RunningController[] = [];
  const logs: string[] = [];
  const name = `klm-${run}-guest`;

  const vm = async () => (await api.getNamespacedCustomObject({ ...VMS, name })) as KubeObject & { status?: VmStatus };
  /** The status once the node that runs the VM has observed its spec as it is now. */
  const settled = (what: (s: VmStatus) => boolean, label: string) => eventually(async () => {
    const o = await vm();
    return o.status && o.status.observedGeneration === o.metadata.generation && what(o.status) ? o.status : undefined;
  }, label, 60_000);
  /** Running on `node`; its old definition leaves the other node once that node has seen the handover. */
  const runsOnlyOn = async (node: string) => {
    const other = node === NODE_A ? NODE_B : NODE_A;
    expect(daemons[node]!.runningIds().has(name), `${name} running on ${node}`).toBe(true);
    await eventually(() => !names(daemons[other]!).includes(name), `${name}'s old definition gone from ${other}`, 30_000);
    expect(daemons[node]!.runningIds().has(name), `${name} still running on ${node}`).toBe(true);
  };

  beforeAll(async () => {
    ({ server, kubeconfig } = await startCluster());
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    await Promise.all(Object.values(daemons).map((d) => d.start()));
    for (const [node, daemon] of Object.entries(daemons)) {
      const config = buildConfig({
        source: 'kube', kubeconfig, 'node-name': node, connect: daemon.uri, 'advertise-uri': daemon.uri,
        'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-klm-')), listen: 'off', poll: '200ms', resync: '10m', 'shutdown-timeout': '1s',
      });
      config.kube!.hosts = { heartbeat: { leaseDurationMs: 8_000, renewMs: 500 }, refreshMs: 1_000, checkMs: 500 };
      nodes.push(await startController(config, createLogger({ level: 'info', format: 'json', write: (l) => logs.push(`${node} ${l}`) })));
    }
    for (const node of [NODE_A, NODE_B]) {
      await eventually(async () => {
        const o = await api.getClusterCustomObject({ ...HVS, name: node }).catch(() => undefined) as { status?: { conditions?: Condition[] } } | undefined;
        return o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      }, `Hypervisor ${node} Ready`, 30_000);
    }
  }, 120_000);

  afterAll(async () => {
    for (const r of nodes) await r.stop();
    await server?.stop();
    await Promise.all(Object.values(daemons).map((d) => d.dispose()));
  }, 120_000);

  it(`spec.nodeName ${'→'} the other node: migrated live by the node that runs it, handed over, same uuid and MAC, one domain`, async () => {
    await api.createNamespacedCustomObject({ ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name }, spec: { memory: '64Mi', vcpus: 1, nodeName: NODE_A } } });
    const before = await settled((s) => s.printableStatus === 'Running' && s.nodeName === NODE_A, `${name} Running on ${NODE_A}`);
    await runsOnlyOn(NODE_A);
    const uuid = daemons[NODE_A]!.virsh('domuuid', name).trim();

    await api.patchNamespacedCustomObject({ ...VMS, name, body: { spec: { nodeName: NODE_B } } }, merge);
    const after = await settled((s) => s.printableStatus === 'Running' && s.nodeName === NODE_B, `${name} Running on ${NODE_B}`);
    await runsOnlyOn(NODE_B);
    expect(daemons[NODE_B]!.virsh('domuuid', name).trim()).toBe(uuid);
    expect(after.allocations?.mac).toBe(before.allocations?.mac);
    expect(logs.some((l) => l.startsWith(NODE_A) && l.includes(`moved ${name} from ${NODE_A} to node ${NODE_B} (live)`))).toBe(true);
    expect(logs.some((l) => l.startsWith(NODE_A) && l.includes('a move permits removing the old definition'))).toBe(true);
  }, 120_000);

  it('`wimaxvm drain NODE --source kube --force`: the pinned guest is unpinned and moved back live by its node; drain prints the move and exits 0 once the node is empty', async () => {
    const drain = await cli('drain', NODE_B, '--source', 'kube', '--kubeconfig', kubeconfig, '--force', '--timeout', '90s');
    expect(drain.err).toBe('');
    expect(drain.code).toBe(0);
    expect(drain.out).toContain(`hypervisor/${NODE_B} cordoned`);
    expect(drain.out).toContain(`virtualmachine/${name} unpinned`);
    expect(drain.out).toContain(`virtualmachine/${name} moved to ${NODE_A}`);
    expect(drain.out).toMatch(new RegExp(`hypervisor/${NODE_B} drained\\n$`));
    const back = await settled((s) => s.printableStatus === 'Running' && s.nodeName === NODE_A, `${name} drained back to ${NODE_A}`);
    await runsOnlyOn(NODE_A);
    expect(back.conditions?.find((c) => c.type === 'Scheduled')).toMatchObject({ status: 'True' });
    expect(logs.some((l) => l.startsWith(NODE_B) && l.includes(`moved ${name} from ${NODE_B} to node ${NODE_A} (live)`))).toBe(true);
    expect((await cli('uncordon', NODE_B, '--source', 'kube', '--kubeconfig', kubeconfig)).code).toBe(0);
  }, 120_000);
});
