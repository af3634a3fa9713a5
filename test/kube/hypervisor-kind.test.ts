// The Hypervisor kind through the API-server double (which validates against crds/): cluster-
// scoped, spec as the real kube-apiserver v1.28 took and refused it (the same messages, checked
// by hand there), status only through /status; and file mode's validation of the same
// declarations gives the same words. A VM's spec.nodeSelector and status.nodeName likewise.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateResource } from '../../src/api/schema.js';
import { FakeApiServer } from './api-server.js';
import { callFailure } from './call-failure.js';

const GROUP = 'wimaxvm.io';
const VERSION = 'v1alpha1';
const HVS = { group: GROUP, version: VERSION, plural: 'hypervisors' };
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const hv = (name: string, spec: Record<string, unknown>) => ({ apiVersion: `${GROUP}/${VERSION}`, kind: 'Hypervisor', metadata: { name, labels: { rack: 'r1' } }, spec });

describe('Hypervisor through the API-server double', () => {
  let server: FakeApiServer;
  let custom: CustomObjectsApi;
  beforeAll(async () => {
    server = await FakeApiServer.start({ installCrds: true });
    custom = server.kubeConfig().makeApiClient(CustomObjectsApi);
  });
  afterAll(async () => server.stop());

  it('cluster-scoped: created and read without a namespace; status only through /status', async () => {
    const created = await custom.createClusterCustomObject({ ...HVS, body: hv('node-a', { uri: 'qemu+ssh://node-a/system', overcommit: { memory: 1.5, vcpus: 4 } }) }) as any;
    expect(created.metadata.namespace).toBeUndefined();
    expect(created.spec).toEqual({ uri: 'qemu+ssh://node-a/system', overcommit: { memory: 1.5, vcpus: 4 } });
    const status = { observedGeneration: 1, capacity: { memory: '24613408Ki', vcpus: 2 }, allocatable: { memory: '36395008Ki', vcpus: 7 }, vms: ['vm30'], vmCount: 1, domainType: 'qemu',
      conditions: [{ type: 'Ready', status: 'True', reason: 'Connected', message: 'libvirt answers', observedGeneration: 1, lastTransitionTime: '2026-12-03T01:20:00Z' }] };
    await custom.patchClusterCustomObjectStatus({ ...HVS, name: 'node-a', body: { status } }, MERGE);
    const read = await custom.getClusterCustomObject({ ...HVS, name: 'node-a' }) as any;
    expect(read.status).toEqual(status);
    const list = await custom.listClusterCustomObject(HVS) as any;
    expect(list.items.map((i: any) => i.metadata.name)).toEqual(['node-a']);
  });

  // Each message as kube-apiserver v1.28.7 answered it for the same body (after the prefix it adds).
  it.each([
    [{ uri: 'not a uri' }, `spec.uri: Invalid value: "not a uri": spec.uri in body should match '^[a-z][a-z0-9+]*://'`],
    [{}, 'spec.uri: Required value'],
    [{ uri: 'qemu:///system', overcommit: { memory: 0 } }, 'spec.overcommit.memory: Invalid value: 0: spec.overcommit.memory in body should be greater than or equal to 1'],
    [{ uri: 'qemu:///system', overcommit: { memory: 0.5 } }, 'spec.overcommit.memory: Invalid value: 0.5: spec.overcommit.memory in body should be greater than or equal to 1'],
    [{ uri: 'qemu:///system', overcommit: { memory: 17 } }, 'spec.overcommit.memory: Invalid value: 17: spec.overcommit.memory in body should be less than or equal to 16'],
  ])('refuses %j as the real server does, and so does file mode', async (spec, message) => {
    const refused = await callFailure(custom.createClusterCustomObject({ ...HVS, body: hv('bad', spec) }));
    expect(refused.code).toBe(422);
    expect(refused.message).toBe(`Hypervisor.wimaxvm.io "bad" is invalid: ${message}`);
    const file = validateResource(hv('bad', spec));
    expect(file.ok ? [] : file.errors.map((e) => e.message)).toEqual([message]);
  });

  it("a VM's spec.nodeSelector and status.nodeName are served and kept", async () => {
    const VMS = { group: GROUP, version: VERSION, plural: 'virtualmachines', namespace: 'default' };
    await custom.createNamespacedCustomObject({ ...VMS, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'VirtualMachine', metadata: { name: 'vm-sel' }, spec: { memory: '64Mi', nodeSelector: { rack: 'r1' } } } });
    await custom.patchNamespacedCustomObjectStatus({ ...VMS, name: 'vm-sel', body: { status: { nodeName: 'node-a' } } }, MERGE);
    const read = await custom.getNamespacedCustomObject({ ...VMS, name: 'vm-sel' }) as any;
    expect(read.spec.nodeSelector).toEqual({ rack: 'r1' });
    expect(read.status.nodeName).toBe('node-a');
    const file = validateResource({ apiVersion: `${GROUP}/${VERSION}`, kind: 'VirtualMachine', metadata: { name: 'vm-sel' }, spec: { memory: '64Mi', nodeSelector: { rack: 7 } } });
    expect(file.ok ? [] : file.errors.map((e) => e.message)).toEqual(['spec.nodeSelector.rack: Invalid value: "integer": spec.nodeSelector.rack in body must be of type string: "integer"']);
  });
});
