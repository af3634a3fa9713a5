import { describe, expect, it } from 'vitest';
import { describeOperations, planLiveChanges, type LivePlan } from '../../src/reconcilers/virtual-machine/live-changes.js';
import type { DomainFacts } from '../../src/reconcilers/virtual-machine/domain-xml.js';

const MiB = 1024;
const MAC = '52:54:00:00:00:01';
const M2 = '52:54:00:00:00:02';
const M3 = '52:54:00:00:00:03';
const first = { mac: MAC, type: 'bridge', source: 'ovsbr', port: 'wx1', vlan: 7 };
const mgmt = { mac: M2, type: 'network', source: 'mgmt' };
const lab = { mac: M3, type: 'network', source: 'lab' };

/** A running guest: 256Mi of at most 1Gi, 1 of at most 4 vCPUs, a boot disk, the slice NIC. */
const LIVE: DomainFacts = { memoryKiB: 256 * MiB, maxMemoryKiB: 1024 * MiB, vcpus: 1, maxVcpus: 4, diskPaths: ['/o/disk0-a.qcow2'], nics: [first] };
/** The same guest without declared maxima (as every domain was before them). */
const PLAIN: DomainFacts = { memoryKiB: 256 * MiB, vcpus: 1, diskPaths: ['/o/disk0-a.qcow2'], nics: [first] };

const none: LivePlan = { operations: [], restartRequired: [], configOnly: [], waiting: false };

describe('planLiveChanges: a running guest', () => {
  it.each<[string, DomainFacts, DomainFacts, Partial<LivePlan>]>([
    ['nothing changed', LIVE, LIVE, {}],
    ['memory up within the maximum: the balloon gives', { ...LIVE, memoryKiB: 512 * MiB }, LIVE, { operations: [{ type: 'setMemory', kib: 512 * MiB }] }],
    ['memory down: the balloon takes', { ...LIVE, memoryKiB: 128 * MiB }, LIVE, { operations: [{ type: 'setMemory', kib: 128 * MiB }] }],
    ['memory up to the maximum exactly', { ...LIVE, memoryKiB: 1024 * MiB, maxMemoryKiB: undefined }, LIVE, { operations: [{ type: 'setMemory', kib: 1024 * MiB }] }],
    ['memory beyond the maximum, maximum raised with it', { ...LIVE, memoryKiB: 2048 * MiB, maxMemoryKiB: 4096 * MiB }, LIVE, { restartRequired: ['maxMemory', 'memory'] }],
    ['maxMemory changed alone: the guest has the old one until it restarts', { ...LIVE, maxMemoryKiB: 2048 * MiB }, LIVE, { restartRequired: ['maxMemory'] }],
    ['maxMemory raised and memory raised within the old one', { ...LIVE, memoryKiB: 512 * MiB, maxMemoryKiB: 2048 * MiB }, LIVE, {
      operations: [{ type: 'setMemory', kib: 512 * MiB }], restartRequired: ['maxMemory'],
    }],
    ['memory changed without a declared maximum: a restart, as before maxima', { ...PLAIN, memoryKiB: 512 * MiB }, PLAIN, { restartRequired: ['memory'] }],
    ['memory lowered without a declared maximum: a restart too', { ...PLAIN, memoryKiB: 128 * MiB }, PLAIN, { restartRequired: ['memory'] }],
    ['a maximum declared for a guest started without one', { ...PLAIN, maxMemoryKiB: 1024 * MiB }, PLAIN, { restartRequired: ['maxMemory'] }],
    ['vcpus up within the maximum: hot-plugged', { ...LIVE, vcpus: 3 }, LIVE, { operations: [{ type: 'setVcpus', count: 3 }] }],
    ['vcpus down: a restart (libvirt will not unplug boot vCPUs; guests need not let one go)', { ...LIVE, vcpus: 2 }, { ...LIVE, vcpus: 4, maxVcpus: undefined }, { restartRequired: ['vcpus'] }],
    ['vcpus beyond the maximum', { ...LIVE, vcpus: 6, maxVcpus: 8 }, LIVE, { restartRequired: ['maxVcpus', 'vcpus'] }],
    ['maxVcpus changed alone', { ...LIVE, maxVcpus: 8 }, LIVE, { restartRequired: ['maxVcpus'] }],
    ['vcpus changed without a declared maximum', { ...PLAIN, vcpus: 2 }, PLAIN, { restartRequired: ['vcpus'] }],
    ['a disk added after the boot disk: plugged', { ...LIVE, diskPaths: ['/o/disk0-a.qcow2', '/o/disk1-b.qcow2'] }, LIVE, {
      operations: [{ type: 'attachDisk', index: 1, path: '/o/disk1-b.qcow2' }],
    }],
    ['the last disk removed: pulled', LIVE, { ...LIVE, diskPaths: ['/o/disk0-a.qcow2', '/o/disk1-b.qcow2'] }, {
      operations: [{ type: 'detachDisk', index: 1, path: '/o/disk1-b.qcow2' }],
    }],
    ['a middle disk removed: the ones after move up, each plugged once its target is free', { ...LIVE, diskPaths: ['/o/disk0-a.qcow2', '/o/disk1-c.qcow2'] },
      { ...LIVE, diskPaths: ['/o/disk0-a.qcow2', '/o/disk1-b.qcow2', '/o/disk2-c.qcow2'] }, {
        operations: [{ type: 'detachDisk', index: 1, path: '/o/disk1-b.qcow2' }, { type: 'detachDisk', index: 2, path: '/o/disk2-c.qcow2' }], waiting: true,
      }],
    ['the boot disk changed: a restart', { ...LIVE, diskPaths: ['/o/disk0-z.qcow2'] }, LIVE, { restartRequired: ['disks'] }],
    ['every disk removed: the boot disk too, a restart', { ...LIVE, diskPaths: [] }, LIVE, { restartRequired: ['disks'] }],
    ['a NIC added: plugged', { ...LIVE, nics: [first, mgmt] }, LIVE, { operations: [{ type: 'attachNic', mac: M2, network: 'mgmt' }] }],
    ['a NIC removed: pulled', LIVE, { ...LIVE, nics: [first, mgmt] }, { operations: [{ type: 'detachNic', mac: M2, network: 'mgmt' }] }],
    ['NICs plugged in another order than declared: nothing', { ...LIVE, nics: [first, mgmt, lab] }, { ...LIVE, nics: [first, lab, mgmt] }, {}],
    ['a NIC moved to another network: pulled, plugged again once gone', { ...LIVE, nics: [first, { ...mgmt, source: 'lab' }] }, { ...LIVE, nics: [first, mgmt] }, {
      operations: [{ type: 'detachNic', mac: M2, network: 'mgmt' }], waiting: true,
    }],
    ['the first NIC\'s VLAN changed: the switch applies it, nothing here', { ...LIVE, nics: [{ ...first, vlan: 9 }] }, LIVE, {}],
    ['the first NIC\'s MAC changed: a restart', { ...LIVE, nics: [{ ...first, mac: M3 }] }, LIVE, { restartRequired: ['network'] }],
    ['the first NIC\'s attachment changed: a restart', { ...LIVE, nics: [{ mac: MAC, type: 'user' }] }, LIVE, { restartRequired: ['network'] }],
    ['several at once: pulls first, then the rest; what cannot be live waits', {
      memoryKiB: 768 * MiB, maxMemoryKiB: 1024 * MiB, vcpus: 2, maxVcpus: 8, diskPaths: ['/o/disk0-a.qcow2', '/o/disk1-b.qcow2'], nics: [first, lab],
    }, { ...LIVE, nics: [first, mgmt] }, {
      operations: [
        { type: 'detachNic', mac: M2, network: 'mgmt' },
        { type: 'setMemory', kib: 768 * MiB },
        { type: 'setVcpus', count: 2 },
        { type: 'attachDisk', index: 1, path: '/o/disk1-b.qcow2' },
        { type: 'attachNic', mac: M3, network: 'lab' },
      ],
      restartRequired: ['maxVcpus'],
    }],
  ])('%s', (_label, desired, live, expected) => {
    expect(planLiveChanges({ desired, live, persistent: live })).toEqual({ ...none, ...expected });
  });
});

describe('planLiveChanges: a guest that is off', () => {
  it('plans no calls on it and nothing for a restart: the redefinition is all, the next start takes it', () => {
    const desired: DomainFacts = { ...LIVE, memoryKiB: 2048 * MiB, maxMemoryKiB: 4096 * MiB, vcpus: 2, diskPaths: ['/o/disk0-z.qcow2'], nics: [first, mgmt] };
    expect(planLiveChanges({ desired, persistent: LIVE })).toEqual({
      ...none, configOnly: ['memory', 'maxMemory', 'vcpus', 'disks', 'interfaces'],
    });
    expect(planLiveChanges({ desired: LIVE, persistent: LIVE })).toEqual(none);
    expect(planLiveChanges({ desired: LIVE })).toEqual(none);
  });
});

describe('describeOperations', () => {
  it('says what each operation does, in order', () => {
    expect(describeOperations([
      { type: 'setMemory', kib: 512 * MiB }, { type: 'setMemory', kib: 1000 }, { type: 'setVcpus', count: 2 },
      { type: 'attachDisk', index: 1, path: '/o/b' }, { type: 'detachDisk', index: 2, path: '/o/c' },
      { type: 'attachNic', mac: M2, network: 'mgmt' }, { type: 'detachNic', mac: M3, network: 'lab' },
    ])).toBe(`memory 512Mi, memory 1000Ki, vcpus 2, disk vdb added, disk vdc removed, NIC ${M2} on mgmt added, NIC ${M3} removed`);
  });
});
