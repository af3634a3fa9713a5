import { describe, expect, it } from 'vitest';
import {
  allocatable, NO_HYPERVISORS, schedule, scheduleAll, unschedulableMessage,
  type HostView, type PlacementRequest,
} from '../../src/hosts/scheduler.js';

const Gi = 2 ** 30;
const Mi = 2 ** 20;

function host(name: string, over: Partial<HostView> & { usedGi?: number; usedVcpus?: number; vms?: number } = {}): HostView {
  const { usedGi = 0, usedVcpus = 0, vms = 0, ...rest } = over;
  return {
    name, ready: true, cordoned: false, labels: {},
    capacity: { memoryBytes: 8 * Gi, vcpus: 4 },
    used: { memoryBytes: usedGi * Gi, vcpus: usedVcpus, vms },
    ...rest,
  };
}

const vm = (memGi: number, vcpus = 1, nodeSelector?: Record<string, string>): PlacementRequest => ({ memoryBytes: memGi * Gi, vcpus, nodeSelector });

describe('scheduler: fit', () => {
  it.each<[string, HostView[], PlacementRequest, string | undefined]>([
    ['the only host with room', [host('a', { usedGi: 7.5 }), host('b')], vm(1), 'b'],
    ['memory exactly to the last byte', [host('a', { usedGi: 7 })], vm(1), 'a'],
    ['one byte too many', [host('a', { usedGi: 7 })], { memoryBytes: Gi + 1, vcpus: 1 }, undefined],
    ['vCPUs exhausted although memory is free', [host('a', { usedVcpus: 4 })], vm(1), undefined],
    ['memory is never overcommitted by default', [host('a', { usedGi: 6 })], vm(4), undefined],
    ['a declared memory overcommit of 1.5 makes 12Gi allocatable', [host('a', { usedGi: 6, overcommit: { memory: 1.5 } })], vm(4), 'a'],
    ['a declared vCPU overcommit', [host('a', { usedVcpus: 4, overcommit: { vcpus: 4 } })], vm(1, 2), 'a'],
    ['a host used beyond its capacity (declared by hand) takes nothing', [host('a', { usedGi: 9 })], vm(0.25), undefined],
  ])('%s', (_name, hosts, request, expected) => {
    expect(schedule(request, hosts).host).toBe(expected);
  });

  it('allocatable is capacity × ratio minus what wimaxvm VMs take, never negative', () => {
    expect(allocatable(host('a', { usedGi: 2, usedVcpus: 1 }))).toEqual({ memoryBytes: 6 * Gi, vcpus: 3 });
    expect(allocatable(host('a', { usedGi: 2, overcommit: { memory: 2, vcpus: 1.5 } }))).toEqual({ memoryBytes: 14 * Gi, vcpus: 6 });
    expect(allocatable(host('a', { usedGi: 10 }))).toEqual({ memoryBytes: 0, vcpus: 4 });
  });
});

describe('scheduler: selectors, cordon, readiness', () => {
  const hosts = [
    host('a', { labels: { rack: 'r1', radio: 'wimax' } }),
    host('b', { labels: { rack: 'r2', radio: 'wimax' } }),
    host('c', { labels: { rack: 'r2' }, cordoned: true }),
    host('d', { labels: { rack: 'r2', radio: 'wimax' }, ready: false }),
  ];
  it.each<[string, Record<string, string> | undefined, string | undefined]>([
    ['no selector: any ready, uncordoned host (a and b tie, the name decides)', undefined, 'a'],
    ['one label', { rack: 'r2' }, 'b'],
    ['every pair must match', { rack: 'r1', radio: 'wimax' }, 'a'],
    ['a value that no host has', { rack: 'r9' }, undefined],
    ['a key that no host has', { gpu: 'yes' }, undefined],
  ])('%s', (_name, nodeSelector, expected) => {
    expect(schedule(vm(1, 1, nodeSelector), hosts).host).toBe(expected);
  });

  it('a cordoned host takes nothing, even when it is the emptiest', () => {
    expect(schedule(vm(1), [host('empty', { cordoned: true }), host('busy', { usedGi: 6, vms: 6 })]).host).toBe('busy');
  });
});

describe('scheduler: spread', () => {
  it('least allocated after placement wins', () => {
    expect(schedule(vm(1), [host('a', { usedGi: 4, usedVcpus: 2 }), host('b', { usedGi: 2, usedVcpus: 1 })]).host).toBe('b');
  });

  it('scores count capacity: a bigger host with more used can still be the least allocated', () => {
    const big = host('big', { capacity: { memoryBytes: 64 * Gi, vcpus: 32 }, usedGi: 8, usedVcpus: 4, vms: 8 });
    expect(schedule(vm(1), [host('small', { usedGi: 1, usedVcpus: 1, vms: 1 }), big]).host).toBe('big');
  });

  it('among equal scores, fewer wimaxvm VMs; then the name', () => {
    // Same load, different VM counts (one big VM against two small ones).
    expect(schedule(vm(1), [host('a', { usedGi: 2, usedVcpus: 2, vms: 2 }), host('b', { usedGi: 2, usedVcpus: 2, vms: 1 })]).host).toBe('b');
    expect(schedule(vm(1), [host('b'), host('a')]).host).toBe('a');
  });

  it('scheduleAll spreads N equal VMs evenly over equal hosts, in request order, deterministically', () => {
    const requests = Array.from({ length: 6 }, (_, i) => ({ key: `vm${i}`, ...vm(1) }));
    const placed = scheduleAll(requests, [host('h2'), host('h1')]);
    expect([...placed].map(([k, p]) => `${k}@${p.host}`)).toEqual(['vm0@h1', 'vm1@h2', 'vm2@h1', 'vm3@h2', 'vm4@h1', 'vm5@h2']);
    expect(scheduleAll(requests, [host('h1'), host('h2')])).toEqual(placed);
  });

  it('scheduleAll spreads by capacity: a host twice the size takes twice the VMs', () => {
    const requests = Array.from({ length: 6 }, (_, i) => ({ key: `vm${i}`, ...vm(1) }));
    const placed = scheduleAll(requests, [host('big', { capacity: { memoryBytes: 16 * Gi, vcpus: 8 } }), host('small')]);
    const count = (h: string): number => [...placed.values()].filter((p) => p.host === h).length;
    expect([count('big'), count('small')]).toEqual([4, 2]);
  });

  it('scheduleAll stops placing on a host once it is full and reports the rest', () => {
    const requests = Array.from({ length: 5 }, (_, i) => ({ key: `vm${i}`, memoryBytes: 3 * Gi, vcpus: 1 }));
    const placed = scheduleAll(requests, [host('a'), host('b')]);
    expect([...placed.values()].map((p) => p.host)).toEqual(['a', 'b', 'a', 'b', undefined]);
    expect(placed.get('vm4')).toMatchObject({ message: '0/2 hypervisors are available: 2 Insufficient memory.' });
  });
});

describe('scheduler: nothing fits', () => {
  it("says why per host and sums it up in kube-scheduler's words, reasons sorted as strings", () => {
    const placement = schedule(vm(4), [
      host('a', { cordoned: true }),
      host('b', { usedGi: 6 }),
      host('c', { usedGi: 7, usedVcpus: 4 }),
      host('d', { ready: false }),
    ]);
    expect(placement.host).toBeUndefined();
    if (placement.host !== undefined) return;
    expect(placement.reasons).toEqual({
      a: ['hypervisor(s) were cordoned'],
      b: ['Insufficient memory'],
      c: ['Insufficient memory', 'Insufficient vcpus'],
      d: ['hypervisor(s) were not ready'],
    });
    expect(placement.message).toBe('0/4 hypervisors are available: 1 Insufficient vcpus, 1 hypervisor(s) were cordoned, 1 hypervisor(s) were not ready, 2 Insufficient memory.');
  });

  it('the example of the brief: 1 cordoned, 2 without memory', () => {
    expect(unschedulableMessage(3, { a: ['hypervisor(s) were cordoned'], b: ['Insufficient memory'], c: ['Insufficient memory'] }))
      .toBe('0/3 hypervisors are available: 1 hypervisor(s) were cordoned, 2 Insufficient memory.');
  });

  it('a selector mismatch is the reason before fit (the first failing filter decides)', () => {
    const placement = schedule({ memoryBytes: 64 * Gi, vcpus: 1, nodeSelector: { rack: 'r1' } }, [host('a')]);
    expect(placement).toEqual({ message: "0/1 hypervisors are available: 1 hypervisor(s) didn't match VM's node selector.", reasons: { a: ["hypervisor(s) didn't match VM's node selector"] } });
  });

  it('no hypervisors at all', () => {
    expect(schedule({ memoryBytes: 256 * Mi, vcpus: 1 }, [])).toEqual({ message: NO_HYPERVISORS, reasons: {} });
  });
});
