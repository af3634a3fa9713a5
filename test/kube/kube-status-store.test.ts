// A VM moved to another node is that node's to report on (DaemonSet mode). The old node wrote
// its last status in the handover (status.nodeName = the new node); after that it writes none:
// not when it forgets the VM (remove), and not in a reconcile that raced the handover before the
// watch brought it back (a second write could replace the new node's status).
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeStatusStore } from '../../src/adapters/kube-status-store.js';
import type { KubeObject, KubeSource } from '../../src/sources/kube-source.js';
import { FakeApiServer } from './api-server.js';

const PATH = /\/virtualmachines\/vm1(\/status)?$/;
const KEY = 'VirtualMachine/default/vm1';
const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };

describe('KubeStatusStore of a VM handed over to another node', () => {
  let server: FakeApiServer;
  let object: KubeObject;
  beforeAll(async () => {
    server = await FakeApiServer.start({ installCrds: true });
    const api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    object = await api.createNamespacedCustomObject({ ...VMS, body: {
      apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'vm1', finalizers: ['wimaxvm.io/cleanup'] }, spec: { nodeName: 'node-2' },
    } }) as KubeObject;
  });
  afterAll(async () => server.stop());

  const patches = () => server.requests.filter((r) => r.method === 'PATCH' && PATH.test(r.path)).length;
  const store = (movedAway: string | undefined) => new KubeStatusStore(server.kubeConfig(), {
    movedAway: () => movedAway, nodeName: 'node-1', object: () => object,
  } as unknown as KubeSource);
  const status = (nodeName: string) => ({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'vm1', namespace: 'default' }, spec: {}, status: { printableStatus: 'Migrating', nodeName, conditions: [], allocations: {} } }) as never;

  it('remove() of a VM that runs on another node now writes nothing: its finalizer and status are that node\'s', async () => {
    const before = patches();
    await store('node-2').remove(KEY);
    expect(patches() - before).toBe(0);
    // The same call for a VM of this node that is really gone takes the finalizer off (the check above can fail).
    await store(undefined).remove(KEY);
    expect(patches() - before).toBe(1);
  });

  it('after its handover write, a node writes no more status of the VM, even before the watch brings the handover back', async () => {
    const statuses = store(undefined);
    const before = patches();
    await statuses.write(KEY, status('node-1'));
    await statuses.write(KEY, status('node-2')); // the handover
    await statuses.write(KEY, status('node-2'));
    expect(patches() - before).toBe(2);
  });
});
