import { describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../src/api/hypervisor.js';
import { hostViewOf, kiQuantity, ownedBy, reachableStatus, unreachableStatus, usageOf, usedFromStatus } from '../../src/hosts/hypervisor-status.js';
import { buildDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import type { DomainSnapshot } from '../../src/ports/hypervisor.js';

const NOW = '2026-12-03T01:00:00.000Z';
const LATER = '2026-12-03T02:00:00.000Z';

function domain(name: string, memoryKiB: number, vcpus: number, ours = true, controller?: string): DomainSnapshot {
  const mac = '52:54:00:00:00:01';
  const xml = buildDomainXml({ name, uuid: '6b3c1a7e-0000-4000-8000-000000000001', type: 'qemu', memoryKiB, vcpus, diskPaths: [], mac, nic: { type: 'user' },
    owner: { uid: 'u', namespace: 'default', name, generation: 1, specHash: 'h', mac, ...(controller ? { controller } : {}) } });
  return { name, uuid: 'u', state: 'running', reason: 'booted', persistentXml: ours ? xml : xml.replace(/<metadata>[\s\S]*<\/metadata>/, '') };
}

const hv = (spec: Partial<Hypervisor['spec']> = {}, status?: Hypervisor['status']): Hypervisor => ({
  apiVersion: 'wimaxvm.io/v1alpha1', kind: 'Hypervisor',
  metadata: { name: 'a', namespace: 'default', uid: 'uid', generation: 2, creationTimestamp: NOW, labels: { rack: 'r1' } },
  spec: { uri: 'qemu:///system', ...spec }, ...(status ? { status } : {}),
});

describe('Hypervisor status', () => {
  it("counts wimaxvm's domains only, running or not, with their persistent memory and vCPUs", () => {
    const usage = usageOf([domain('b', 262144, 2), domain('a', 131072, 1), domain('theirs', 4194304, 8, false), { ...domain('c', 65536, 1), state: 'shutoff', reason: 'shutdown' }]);
    expect(usage).toEqual({ memoryBytes: (262144 + 131072 + 65536) * 1024, vcpus: 4, vms: ['a', 'b', 'c'] });
  });

  it("with ownedBy(identity): another controller's domains are not its VMs, their room still counts; one naming no controller counts as before", () => {
    const owned = (name: string, controller?: string) => domain(name, 131072, 1, true, controller);
    const self = 'file://here/srv/vms';
    const domains = [owned('mine', self), owned('others', 'file://there/srv/vms'), owned('legacy'), owned('taken-over', 'kube://gone/wimaxvm')];
    expect(usageOf(domains, ownedBy({ self, adoptFrom: ['kube://gone/wimaxvm'] }))).toEqual({ memoryBytes: 4 * 131072 * 1024, vcpus: 4, vms: ['legacy', 'mine', 'taken-over'] });
    expect(usageOf(domains).vms).toEqual(['legacy', 'mine', 'others', 'taken-over']); // no identity said: all, as before
  });

  it('allocatable = capacity × overcommit − usage, never negative; Ready=True', () => {
    const s = reachableStatus(hv({ overcommit: { memory: 1.5, vcpus: 2 } }), { memoryKiB: 1_000_000, freeMemoryBytes: 1, cpus: 2 }, { memoryBytes: 400_000 * 1024, vcpus: 3, vms: ['x'] }, 'kvm', NOW);
    expect(s).toMatchObject({ observedGeneration: 2, capacity: { memory: '1000000Ki', vcpus: 2 }, allocatable: { memory: '1100000Ki', vcpus: 1 }, vms: ['x'], vmCount: 1, domainType: 'kvm' });
    expect(s.conditions).toEqual([{ type: 'Ready', status: 'True', reason: 'Connected', observedGeneration: 2, message: 'libvirt at qemu:///system answers (kvm)', lastTransitionTime: NOW }]);
    const full = reachableStatus(hv(), { memoryKiB: 1000, freeMemoryBytes: 1, cpus: 1 }, { memoryBytes: 5000 * 1024, vcpus: 4, vms: [] }, 'kvm', NOW);
    expect(full.allocatable).toEqual({ memory: '0Ki', vcpus: 0 });
  });

  it('unreachable: Ready=False with the error, the last figures kept, the transition time moves only on a flip', () => {
    const up = hv({}, reachableStatus(hv(), { memoryKiB: 1000, freeMemoryBytes: 1, cpus: 1 }, { memoryBytes: 0, vcpus: 0, vms: ['x'] }, 'kvm', NOW));
    const down = unreachableStatus(up, 'Failed to connect socket', LATER);
    expect(down.capacity).toEqual(up.status!.capacity);
    expect(down.vms).toEqual(['x']);
    expect(down.conditions).toEqual([{ type: 'Ready', status: 'False', reason: 'Unreachable', observedGeneration: 2, message: 'libvirt at qemu:///system does not answer: Failed to connect socket; retrying', lastTransitionTime: LATER }]);
    expect(unreachableStatus(hv({}, down), 'again', '2026-12-03T03:00:00.000Z').conditions[0]!.lastTransitionTime).toBe(LATER);
  });

  it("the scheduler's view: labels, cordon, readiness (no figures yet: not ready), used from the status", () => {
    const s = reachableStatus(hv({ overcommit: { vcpus: 4 } }), { memoryKiB: 1_048_576, freeMemoryBytes: 1, cpus: 2 }, { memoryBytes: 256 * 2 ** 20, vcpus: 3, vms: ['x', 'y'] }, 'qemu', NOW);
    const object = hv({ overcommit: { vcpus: 4 }, unschedulable: true }, s);
    expect(usedFromStatus(object)).toEqual({ memoryBytes: 256 * 2 ** 20, vcpus: 3, vms: 2 });
    expect(hostViewOf(object, usedFromStatus(object))).toEqual({
      name: 'a', labels: { rack: 'r1' }, ready: true, cordoned: true, capacity: { memoryBytes: 2 ** 30, vcpus: 2 }, overcommit: { vcpus: 4 },
      used: { memoryBytes: 256 * 2 ** 20, vcpus: 3, vms: 2 },
    });
    expect(hostViewOf(hv(), { memoryBytes: 0, vcpus: 0, vms: 0 }).ready).toBe(false);
    expect(hostViewOf(hv({}, unreachableStatus(object, 'x', LATER)), { memoryBytes: 0, vcpus: 0, vms: 0 }).ready).toBe(false);
    expect(kiQuantity(1536)).toBe('1Ki');
  });
});
