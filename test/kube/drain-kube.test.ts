// `wimaxvm cordon|uncordon|drain --source kube` against the API-server double (which validates
// against the CRDs of crds/). The test plays the nodes' controllers: it writes the Hypervisor's
// and the VMs' status as they would (status.nodeName, the Scheduled condition, status.vms), and
// drain reads them and says what it sees; the verdict is drain-watch.ts's, shared with file mode.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HypervisorObjects } from '../../src/hosts/kube/hypervisor-objects.js';
import { eventually } from '../helpers/harness.js';
import { cli, cliLive } from '../helpers/run-cli.js';
import type { FakeApiServer } from './api-server.js';
import { startCluster } from './cluster-fixture.js';

const run = Math.random().toString(36).slice(2, 6);
const HVS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'hypervisors' };
const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const [A, B] = [`dk-${run}-a`, `dk-${run}-b`];

interface Object { metadata: { name: string; generation?: number; annotations?: Record<string, string> }; spec: Record<string, unknown>; status?: Record<string, unknown> }

describe('cordon, uncordon and drain through the API server', () => {
  let server: FakeApiServer;
  let kubeconfig: string;
  let api: CustomObjectsApi;
  const kube = () => ['--source', 'kube', '--kubeconfig', kubeconfig];
  const hv = async (name: string) => (await api.getClusterCustomObject({ ...HVS, name })) as Object;
  const vm = async (name: string) => (await api.getNamespacedCustomObject({ ...VMS, name })) as Object;
  const hvStatus = async (name: string, vms: string[]) => {
    const status = {
      observedGeneration: (await hv(name)).metadata.generation, vms, vmCount: vms.length,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Connected', message: 'libvirt answers', lastTransitionTime: new Date().toISOString() }],
    };
    await api.patchClusterCustomObjectStatus({ ...HVS, name, body: { status } }, MERGE);
  };
  /** What a node's controller writes of a VM: where it is, and its Scheduled condition. */
  const vmStatus = async (name: string, nodeName: string, reason: string, message: string, printableStatus = 'Stopped') => {
    const status = {
      observedGeneration: (await vm(name)).metadata.generation, printableStatus, nodeName,
      conditions: [{ type: 'Scheduled', status: 'True', reason, message, lastTransitionTime: new Date().toISOString() }],
    };
    await api.patchNamespacedCustomObjectStatus({ ...VMS, name, body: { status } }, MERGE);
  };
  const createVm = (name: string, spec: Record<string, unknown> = {}) => api.createNamespacedCustomObject({
    ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name }, spec: { runStrategy: 'Halted', memory: '64Mi', vcpus: 1, ...spec } },
  });

  beforeAll(async () => {
    ({ server, kubeconfig } = await startCluster());
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    for (const name of [A, B]) {
      await api.createClusterCustomObject({ ...HVS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'Hypervisor', metadata: { name }, spec: { uri: `qemu+tls://${name}/system` } } });
      await hvStatus(name, []);
    }
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("cordon and uncordon merge-patch the Hypervisor; the node's registration and status writes keep what the user set", async () => {
    expect(await cli('cordon', A, ...kube())).toEqual({ code: 0, out: `hypervisor/${A} cordoned\n`, err: '' });
    expect((await hv(A)).spec).toEqual({ uri: `qemu+tls://${A}/system`, unschedulable: true });
    expect(server.requests.some((r) => r.method === 'PATCH' && r.path === `/apis/wimaxvm.io/v1alpha1/hypervisors/${A}`)).toBe(true);
    await api.patchClusterCustomObject({ ...HVS, name: A, body: { metadata: { annotations: { 'wimaxvm.io/drain': '2026-01-01T00:00:00Z', 'example.org/keep': 'yes' } } } }, MERGE);
    // What the node's controller calls (src/hosts/kube/hypervisor-registration.ts): register, even with a new URI, then its status.
    const objects = new HypervisorObjects(server.kubeConfig());
    await objects.register(A, `qemu+tls://${A}.lab/system`);
    await objects.writeStatus(A, { observedGeneration: 3, conditions: [], vms: [], vmCount: 0 });
    const kept = await hv(A);
    expect(kept.spec).toEqual({ uri: `qemu+tls://${A}.lab/system`, unschedulable: true });
    expect(kept.metadata.annotations).toMatchObject({ 'wimaxvm.io/drain': '2026-01-01T00:00:00Z', 'example.org/keep': 'yes' });

    expect(await cli('uncordon', A, ...kube())).toEqual({ code: 0, out: `hypervisor/${A} uncordoned\n`, err: '' });
    const uncordoned = await hv(A);
    expect(uncordoned.spec).toEqual({ uri: `qemu+tls://${A}.lab/system` });
    expect(uncordoned.metadata.annotations).toEqual({ 'example.org/keep': 'yes' });
    expect(await cli('uncordon', A, ...kube())).toMatchObject({ code: 0 }); // nothing to remove: still fine
    expect(await cli('cordon', `dk-${run}-none`, ...kube())).toMatchObject({ code: 1, err: expect.stringMatching(new RegExp(`^error.*hypervisor "dk-${run}-none" not found in the cluster`)) });
    expect(await cli('cordon', A, '--source', 'kube', '--kubeconfig', kubeconfig, '--dir', '/tmp')).toMatchObject({ code: 2 });
  });

  it('drain of a host with no VM: cordoned, marked drained, exit 0 at once', async () => {
    const r = await cli('drain', B, ...kube(), '--timeout', '60s');
    expect(r).toEqual({ code: 0, out: `hypervisor/${B} cordoned\nhypervisor/${B} drained\n`, err: '' });
    const drained = await hv(B);
    expect(drained.spec.unschedulable).toBe(true);
    expect(drained.metadata.annotations?.['wimaxvm.io/drain']).toMatch(/^\d{4}-\d\d-\d\dT/);
    await cli('uncordon', B, ...kube());
  });

  it('drain refuses a pinned VM; with --force unpins it, says each move, waits for a blocked VM and ends 0 once none is left', async () => {
    const [moved, pinned] = [`dk-${run}-moved`, `dk-${run}-pinned`];
    await createVm(moved);
    await createVm(pinned, { nodeName: A });
    await vmStatus(moved, A, 'Scheduled', `the scheduler placed it on ${A}`);
    await vmStatus(pinned, A, 'Scheduled', `spec.nodeName places it on ${A}`);
    await hvStatus(A, [moved, pinned]);
    const refused = await cli('drain', A, ...kube());
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(`error: cannot drain hypervisor/${A}: 1 VM(s) pinned to it by spec.nodeName (use --force to unpin them so the scheduler moves them): ${pinned}\n`);
    expect((await hv(A)).spec.unschedulable).toBe(true);

    const drain = cliLive('drain', A, ...kube(), '--force', '--timeout', '120s');
    await eventually(async () => (await vm(pinned)).spec.nodeName === undefined, 'the pinned VM unpinned');
    // The controllers: one VM moves, the other has nowhere to go for now.
    await vmStatus(moved, A, 'Migrating', `cold move from ${A} to ${B}`);
    await vmStatus(pinned, A, 'DrainBlocked', `runs on ${A}, which is being drained; it stays: 0/2 hypervisors are available: 1 Insufficient memory.`);
    await eventually(() => drain.out().includes(`virtualmachine/${pinned} DrainBlocked`) && drain.out().includes(`virtualmachine/${moved} Migrating`), 'drain saying both');
    await vmStatus(moved, B, 'Scheduled', `runs on ${B}`);
    await eventually(() => drain.out().includes(`virtualmachine/${moved} moved to ${B}`), 'drain saying the move');
    // Room elsewhere, once the drain has waited a while: the blocked one moves too, and the host's status lists none.
    await vmStatus(pinned, A, 'DrainBlocked', `runs on ${A}, which is being drained; it stays: 0/2 hypervisors are available: 2 Insufficient memory.`);
    await vmStatus(pinned, B, 'Scheduled', `runs on ${B}`);
    await hvStatus(A, [pinned]);
    await eventually(() => drain.out().includes(`virtualmachine/${pinned} moved to ${B}`), 'drain saying the second move');
    expect(drain.err()).toBe('');
    await hvStatus(A, []);
    const r = await drain.done;
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')).toEqual([
      `hypervisor/${A} cordoned`,
      `virtualmachine/${pinned} unpinned (spec.nodeName ${A} removed)`,
      `virtualmachine/${moved} Migrating: cold move from ${A} to ${B}`,
      `virtualmachine/${pinned} DrainBlocked: runs on ${A}, which is being drained; it stays: 0/2 hypervisors are available: 1 Insufficient memory. (waiting for room until --timeout)`,
      `virtualmachine/${moved} moved to ${B}`,
      `virtualmachine/${pinned} moved to ${B}`,
      `hypervisor/${A} drained`,
      '',
    ].filter((l, i, all) => l !== '' || i === all.length - 1));
    for (const name of [moved, pinned]) await api.deleteNamespacedCustomObject({ ...VMS, name });
  });

  it('a VM with no room until the timeout: exit 1 with its reason; a failed move: exit 1 at once, once its status answers its spec', async () => {
    const [stuck, failing] = [`dk-${run}-stuck`, `dk-${run}-failing`];
    await createVm(stuck);
    await vmStatus(stuck, B, 'DrainBlocked', `runs on ${B}, which is being drained; it stays: 0/2 hypervisors are available: 2 hypervisor(s) were cordoned.`);
    await hvStatus(B, [stuck]);
    const timedOut = await cli('drain', B, ...kube(), '--timeout', '1s');
    expect(timedOut.code).toBe(1);
    expect(timedOut.err).toBe(`error: hypervisor/${B} not drained after 1s: still there: ${stuck} (DrainBlocked: runs on ${B}, which is being drained; it stays: 0/2 hypervisors are available: 2 hypervisor(s) were cordoned.)\n`);

    await createVm(failing);
    await api.deleteNamespacedCustomObject({ ...VMS, name: stuck });
    await hvStatus(B, [failing]);
    await vmStatus(failing, B, 'MigrationFailed', `cold move to ${A} failed: disk not shared; it stays on ${B}`);
    // Its spec changed since (a new generation): that failure is no answer yet, the drain waits.
    await api.patchNamespacedCustomObject({ ...VMS, name: failing, body: { spec: { memory: '32Mi' } } }, MERGE);
    const stale = await cli('drain', B, ...kube(), '--timeout', '1s');
    expect(stale.err).toBe(`error: hypervisor/${B} not drained after 1s: still there: ${failing}\n`);
    await vmStatus(failing, B, 'MigrationFailed', `cold move to ${A} failed: disk not shared; it stays on ${B}`);
    const failed = await cli('drain', B, ...kube(), '--timeout', '10m');
    expect(failed.code).toBe(1);
    expect(failed.err).toBe(`error: cannot drain hypervisor/${B}: virtualmachine/${failing}: cold move to ${A} failed: disk not shared; it stays on ${B}\n`);
  });
});
