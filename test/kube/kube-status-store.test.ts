// Issue 8 (12): a VM moved to another node kept the old node's "Running". The old node marks
// it moved, but never over a status the new node has written (a newer observedGeneration).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeStatusStore } from '../../src/adapters/kube-status-store.js';
import type { KubeObject, KubeSource } from '../../src/sources/kube-source.js';
import { FakeApiServer } from './api-server.js';

const PATH = /\/virtualmachines\/vm1\/status$/;

describe('KubeStatusStore.remove of a VM that moved to another node', () => {
  let server: FakeApiServer;
  beforeAll(async () => { server = await FakeApiServer.start({ installCrds: true }); });
  afterAll(async () => server.stop());

  const storeSeeing = (object: KubeObject) => new KubeStatusStore(server.kubeConfig(), {
    movedAway: () => ({ object, toNode: 'node-2' }), nodeName: 'node-1', object: () => undefined,
  } as unknown as KubeSource);
  const vm = (generation: number, observedGeneration: number): KubeObject => ({
    apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
    metadata: { name: 'vm1', namespace: 'default', generation },
    spec: { nodeName: 'node-2' },
    status: { printableStatus: 'Running', observedGeneration, conditions: [], allocations: {}, domain: { name: 'vm1', uuid: 'u', state: 'running' } },
  });

  it.each([
    ['the new node wrote already (same generation)', 2, 2, 0],
    ['this node wrote last (older generation)', 2, 1, 1],
  ])('%s → %d status patch(es)', async (_label, generation, observed, patches) => {
    const before = server.requests.filter((r) => r.method === 'PATCH' && PATH.test(r.path)).length;
    await storeSeeing(vm(generation, observed)).remove('VirtualMachine/default/vm1');
    expect(server.requests.filter((r) => r.method === 'PATCH' && PATH.test(r.path)).length - before).toBe(patches);
  });
});
