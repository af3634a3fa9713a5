// Which VMs look again when a Hypervisor changes (src/hosts/host-vms.ts): those on it, those
// waiting for a place, those whose spec.nodeName names it, and those blocked on a drained host wherever that is: room made on one
// host (uncordoned, declared, freed) is what a VM blocked on another waits for.
import { describe, expect, it } from 'vitest';
import { markHostVms } from '../../src/hosts/host-vms.js';
import type { HostsPart } from '../../src/hosts/hosts-part.js';
import { silentLogger } from '../../src/core/logger.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { FakeStatusStore } from '../fakes/fake-status-store.js';
import { vmNamed } from '../helpers/vm-steps.js';

const vm = (name: string, status: Record<string, unknown>) => ({
  apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name, namespace: 'default', uid: name, generation: 1, creationTimestamp: '' }, spec: {}, status,
});
const scheduled = (reason: string) => [{ type: 'Scheduled', status: 'True', reason, message: `${reason} message`, lastTransitionTime: '' }];
const hv = (name: string, ready: string) => ({
  apiVersion: 'wimaxvm.io/v1alpha1', kind: 'Hypervisor', metadata: { name, namespace: 'default', uid: name, generation: 1, creationTimestamp: '' }, spec: { uri: `test:///${name}` },
  status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: ready, reason: 'r', message: 'm', lastTransitionTime: '' }] },
});

describe('markHostVms', () => {
  it("another host's change: the VMs blocked on a drained host, the Pending ones and those on the changed host look again; the others do not", async () => {
    const statuses = new FakeStatusStore();
    statuses.seed('Hypervisor/default/a', hv('a', 'True'));
    statuses.seed('Hypervisor/default/b', hv('b', 'True'));
    statuses.seed('VirtualMachine/default/blocked', vm('blocked', { printableStatus: 'Stopped', nodeName: 'a', conditions: scheduled('DrainBlocked') }));
    statuses.seed('VirtualMachine/default/settled', vm('settled', { printableStatus: 'Running', nodeName: 'a', conditions: scheduled('Scheduled') }));
    statuses.seed('VirtualMachine/default/waiting', vm('waiting', { printableStatus: 'Pending', conditions: [] }));
    statuses.seed('VirtualMachine/default/onb', vm('onb', { printableStatus: 'Running', nodeName: 'b', conditions: scheduled('Scheduled') }));
    // Runs on a, its spec.nodeName names b: its move waited for b to be Ready (it was not when the spec changed).
    statuses.seed('VirtualMachine/default/tob', vm('tob', { printableStatus: 'Running', nodeName: 'a', conditions: scheduled('Scheduled') }));
    const store = new DesiredStore();
    store.set('VirtualMachine/default/tob', vmNamed('tob', { nodeName: 'b' }));
    store.set('VirtualMachine/default/settled', vmNamed('settled', { nodeName: 'a' }));
    const enqueued = new Set<string>();
    const hosts = { view: { localHost: () => 'a' } } as unknown as HostsPart;
    await markHostVms('b', hosts, statuses, store, (k) => enqueued.add(k), silentLogger);
    expect([...enqueued].sort()).toEqual(['VirtualMachine/default/blocked', 'VirtualMachine/default/onb', 'VirtualMachine/default/tob', 'VirtualMachine/default/waiting']);
    expect(statuses.writes).toBe(0);
  });
});
