// The placement leader's decisions in Kubernetes mode (src/hosts/kube/leader-plan.ts) and its
// heartbeat clock (src/hosts/kube/heartbeat.ts): pure tables.
import { describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../src/api/hypervisor.js';
import type { Condition } from '../../src/api/meta.js';
import type { VirtualMachineStatus } from '../../src/api/virtual-machine.js';
import { HeartbeatClock } from '../../src/hosts/kube/heartbeat.js';
import { lostHostStatus, planPlacements, unknownVmsOn, type ClusterVm } from '../../src/hosts/kube/leader-plan.js';

const NOW = '2026-12-03T07:00:00.000Z';
const ready: Condition = { type: 'Ready', status: 'True', reason: 'Connected', message: 'ok', observedGeneration: 1, lastTransitionTime: NOW };
const host = (name: string, memoryGi: number, vcpus: number, extra: Partial<Hypervisor['spec']> = {}): Hypervisor => ({
  apiVersion: 'wimaxvm.io/v1alpha1', kind: 'Hypervisor',
  metadata: { name, namespace: 'default', uid: name, generation: 1, creationTimestamp: NOW },
  spec: { uri: `test+unix:///${name}`, ...extra },
  status: { observedGeneration: 1, conditions: [ready], capacity: { memory: `${memoryGi * 1024 * 1024}Ki`, vcpus }, allocatable: { memory: `${memoryGi * 1024 * 1024}Ki`, vcpus }, vms: [], vmCount: 0 },
});
const vm = (name: string, node = '', status?: Partial<VirtualMachineStatus>, memory = '1Gi'): ClusterVm => ({
  key: `VirtualMachine/default/${name}`, domainName: name, generation: 1, spec: { runStrategy: 'Always', memory, vcpus: 1 }, node, deleting: false,
  ...(status ? { status: { printableStatus: 'Running', observedGeneration: 1, conditions: [], allocations: {}, ...status } } : {}),
});

describe('planPlacements', () => {
  it('spreads VMs without a node over equal hosts, counting those placed earlier in the pass and those with a node', () => {
    const writes = planPlacements([vm('on-a', 'a', { nodeName: 'a' }), vm('v1'), vm('v2'), vm('v3')], [host('a', 8, 4), host('b', 8, 4)], new Map(), NOW);
    expect(writes.map((w) => [w.key.split('/')[2], w.kind === 'place' ? w.node : '-'])).toEqual([['v1', 'b'], ['v2', 'a'], ['v3', 'b']]);
    expect(writes[0]!.status).toMatchObject({ nodeName: 'b', conditions: [{ type: 'Scheduled', status: 'True', reason: 'Scheduled' }] });
  });

  it('a VM with a node (spec or status), being deleted, or assumed is not placed again', () => {
    const deleting = { ...vm('gone'), deleting: true };
    expect(planPlacements([vm('x', 'a'), deleting, vm('assumed')], [host('a', 8, 4)], new Map([['VirtualMachine/default/assumed', 'a']]), NOW)).toEqual([]);
  });

  it('assumed placements take room: the last slot is not given twice', () => {
    const writes = planPlacements([vm('assumed'), vm('next')], [host('a', 1, 4)], new Map([['VirtualMachine/default/assumed', 'a']]), NOW);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ kind: 'unschedulable' });
  });

  it('nothing fits: Pending with the scheduler\'s words, written once (not again while they stay the same)', () => {
    const [write] = planPlacements([vm('big', '', undefined, '64Gi')], [host('a', 8, 4), { ...host('b', 8, 4), spec: { uri: 'x://', unschedulable: true } }], new Map(), NOW);
    expect(write).toMatchObject({ kind: 'unschedulable', status: { printableStatus: 'Pending' } });
    const scheduled = write!.status.conditions.find((c) => c.type === 'Scheduled');
    expect(scheduled).toMatchObject({ status: 'False', reason: 'Unschedulable', message: '0/2 hypervisors are available: 1 Insufficient memory, 1 hypervisor(s) were cordoned.' });
    expect(planPlacements([vm('big', '', write!.status, '64Gi')], [host('a', 8, 4), { ...host('b', 8, 4), spec: { uri: 'x://', unschedulable: true } }], new Map(), NOW)).toEqual([]);
  });

  it('no Ready host: nothing is placed', () => {
    const down = { ...host('a', 8, 4), status: { ...host('a', 8, 4).status!, conditions: [{ ...ready, status: 'False' as const }] } };
    expect(planPlacements([vm('v')], [down], new Map(), NOW)[0]).toMatchObject({ kind: 'unschedulable' });
  });
});

describe('a lost host', () => {
  it('Ready=False HeartbeatStopped once; its VMs Unknown except Pending ones, other hosts\' VMs untouched', () => {
    const status = lostHostStatus(host('b', 8, 4), 41_000, NOW)!;
    expect(status.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'HeartbeatStopped' });
    expect(status.capacity).toEqual(host('b', 8, 4).status!.capacity);
    expect(lostHostStatus({ ...host('b', 8, 4), status }, 50_000, NOW)).toBeUndefined();
    const marked = unknownVmsOn('b', [vm('r', 'b', { nodeName: 'b' }), vm('p', 'b', { printableStatus: 'Pending' }), vm('u', 'b', { printableStatus: 'Unknown' }), vm('other', 'a', {})], NOW);
    expect(marked.map((m) => m.key)).toEqual(['VirtualMachine/default/r']);
    expect(marked[0]!.status).toMatchObject({ printableStatus: 'Unknown', nodeName: 'b', conditions: [{ type: 'Ready', status: 'Unknown', reason: 'HypervisorNotReady' }] });
  });
});

describe('HeartbeatClock', () => {
  const beat = (host: string, renewTime: string) => ({ host, renewTime, durationMs: 40_000 });
  it('silent only after a whole duration without a change, on its own clock; a new term starts counting again', () => {
    const clock = new HeartbeatClock(40_000);
    expect(clock.silent(['a', 'b'], [beat('a', 't1'), beat('b', 't1')], 0)).toEqual([]);
    expect(clock.silent(['a', 'b'], [beat('a', 't2'), beat('b', 't1')], 30_000)).toEqual([]);
    expect(clock.silent(['a', 'b'], [beat('a', 't2'), beat('b', 't1')], 40_001)).toEqual([{ host: 'b', silentForMs: 40_001 }]);
    // A host without any Lease: silent after the default duration from the first look.
    expect(clock.silent(['a', 'c'], [beat('a', 't3')], 50_000)).toEqual([]);
    expect(clock.silent(['a', 'c'], [beat('a', 't4')], 90_001)).toEqual([{ host: 'c', silentForMs: 40_001 }]);
    clock.reset();
    expect(clock.silent(['c'], [], 200_000)).toEqual([]);
  });
});
