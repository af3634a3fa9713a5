// The pieces of the domain XML that make live changes possible: maxima, the balloon, extra NICs,
// one device's XML for hot-plugging, and the balloon target read back from live metadata.
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  balloonTargetXml, buildDomainXml, diffFacts, factsOf, LIVE_METADATA_NS, parseDomainXml, type DomainDefinition, type DomainFacts,
} from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { diskDeviceXml, extraNicDeviceXml } from '../../src/reconcilers/virtual-machine/device-xml.js';

const MiB = 1024;
function def(overrides: Partial<DomainDefinition> = {}): DomainDefinition {
  return {
    name: 'vm30', uuid: '6f1c2a1e-0000-4000-8000-000000000030', type: 'qemu',
    memoryKiB: 256 * MiB, maxMemoryKiB: 1024 * MiB, vcpus: 1, maxVcpus: 4,
    diskPaths: ['/o/disk0.qcow2'], mac: '52:54:00:12:34:56', nic: { type: 'user' },
    extraNics: [{ mac: '52:54:00:AA:00:01', network: 'mgmt' }],
    owner: { uid: 'u', namespace: 'default', name: 'vm30', generation: 1, specHash: 'h', mac: '52:54:00:12:34:56' },
    ...overrides,
  };
}
const tree = (xml: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false }).parse(xml) as any;

describe('maxima in the definition', () => {
  it('writes <memory> as the maximum, <currentMemory> as the memory, <vcpu current> and a virtio balloon', () => {
    const d = tree(buildDomainXml(def())).domain;
    expect(d.memory['#text']).toBe(String(1024 * MiB));
    expect(d.currentMemory['#text']).toBe(String(256 * MiB));
    expect(d.vcpu).toEqual({ '#text': '4', '@placement': 'static', '@current': '1' });
    expect(d.devices.memballoon).toEqual({ '@model': 'virtio' });
    expect(d.devices.interface).toHaveLength(2);
    expect(d.devices.interface[1]).toMatchObject({ '@type': 'network', source: { '@network': 'mgmt' }, mac: { '@address': '52:54:00:AA:00:01' }, model: { '@type': 'virtio' } });
  });

  it('without maxima writes what it wrote before them (no redefinition of existing domains)', () => {
    const d = tree(buildDomainXml(def({ maxMemoryKiB: undefined, maxVcpus: undefined, extraNics: undefined }))).domain;
    expect(d.memory['#text']).toBe(d.currentMemory['#text']);
    expect(d.vcpu).toEqual({ '#text': '1', '@placement': 'static' });
    expect(d.devices.interface).not.toBeInstanceOf(Array);
  });

  it('a maximum below the memory is the memory (the schema forbids it; the XML stays valid anyway)', () => {
    const d = tree(buildDomainXml(def({ maxMemoryKiB: 128 * MiB, maxVcpus: 0 }))).domain;
    expect(d.memory['#text']).toBe(String(256 * MiB));
    expect(d.vcpu['#text']).toBe('1');
  });

  it.each([
    ['maxima and an extra NIC', def()],
    ['maxima equal to the current values', def({ maxMemoryKiB: 256 * MiB, maxVcpus: 1 })],
    ['no maxima', def({ maxMemoryKiB: undefined, maxVcpus: undefined, extraNics: [] })],
  ])('round trip: %s', (_label, d) => {
    expect(parseDomainXml(buildDomainXml(d)).facts).toEqual(factsOf(d));
  });

  it('factsOf lists the extra NICs after the first, MACs lower-cased', () => {
    expect(factsOf(def()).nics).toEqual([{ mac: '52:54:00:12:34:56', type: 'user' }, { mac: '52:54:00:aa:00:01', type: 'network', source: 'mgmt' }]);
  });
});

describe('the live definition', () => {
  // What libvirt 9.0 shows of a running guest after `virsh setmem --live 128M` and `setvcpus 2`
  // before the guest's balloon driver acted: <currentMemory> is what the balloon has, not the target.
  const live = (metadata: string) => `<domain type='qemu' id='4'><name>vm30</name><uuid>u</uuid><metadata>${metadata}</metadata>
    <memory unit='KiB'>262144</memory><currentMemory unit='KiB'>262144</currentMemory><vcpu placement='static' current='2'>4</vcpu>
    <vcpus><vcpu id='0' enabled='yes' hotpluggable='no' order='1'/><vcpu id='1' enabled='yes' hotpluggable='yes' order='2'/></vcpus><devices/></domain>`;

  it('reads the balloon target wimaxvm recorded in the live metadata, whatever its prefix', () => {
    const facts = parseDomainXml(live(`<wl:balloon xmlns:wl="${LIVE_METADATA_NS}" memory="131072"/>`)).facts;
    expect(facts).toMatchObject({ memoryKiB: 131072, maxMemoryKiB: 262144, vcpus: 2, maxVcpus: 4 });
    expect(parseDomainXml(live(balloonTargetXml(65536).replace('<balloon', `<x:balloon xmlns:x="${LIVE_METADATA_NS}"`))).facts.memoryKiB).toBe(65536);
  });

  it('without one, the balloon as reached; an element of another namespace does not count', () => {
    expect(parseDomainXml(live('')).facts).toMatchObject({ memoryKiB: 262144, vcpus: 2, maxVcpus: 4 });
    expect(parseDomainXml(live('<o:balloon xmlns:o="https://example.org/other" memory="1024"/>')).facts.memoryKiB).toBe(262144);
    expect(parseDomainXml(live(`<wl:balloon xmlns:wl="${LIVE_METADATA_NS}" memory="nonsense"/>`)).facts.memoryKiB).toBe(262144);
  });
});

describe('one device for hot-plugging', () => {
  it('a disk: the same element the definition has, with its target by position', () => {
    const disk = tree(diskDeviceXml('/o/disk1 & "x".qcow2', 1)).disk;
    expect(disk).toEqual({
      '@type': 'file', '@device': 'disk', driver: { '@name': 'qemu', '@type': 'qcow2' },
      source: { '@file': '/o/disk1 & "x".qcow2' }, target: { '@dev': 'vdb', '@bus': 'virtio' },
    });
    expect(tree(buildDomainXml(def({ diskPaths: ['/o/a', '/o/disk1 & "x".qcow2'] }))).domain.devices.disk[1]).toEqual(disk);
  });

  it('a NIC on a libvirt network: its name cannot inject elements', () => {
    const nic = tree(extraNicDeviceXml({ mac: '52:54:00:aa:00:02', network: '</source><evil/>' })).interface;
    expect(nic).toEqual({ '@type': 'network', mac: { '@address': '52:54:00:aa:00:02' }, source: { '@network': '</source><evil/>' }, model: { '@type': 'virtio' } });
  });
});

describe('diffFacts with maxima and extra NICs', () => {
  const base: DomainFacts = { memoryKiB: 256 * MiB, vcpus: 1, diskPaths: [], nics: [{ mac: '52:54:00:00:00:01', type: 'user' }] };
  const extra = { mac: '52:54:00:00:00:02', type: 'network', source: 'mgmt' };
  const other = { mac: '52:54:00:00:00:03', type: 'network', source: 'lab' };
  it.each<[string, DomainFacts, DomainFacts, string[]]>([
    ['memory without maxima: memory only', base, { ...base, memoryKiB: 512 * MiB }, ['memory']],
    ['a maximum declared', base, { ...base, maxMemoryKiB: 512 * MiB }, ['maxMemory']],
    ['memory within an unchanged maximum', { ...base, maxMemoryKiB: 1024 * MiB }, { ...base, memoryKiB: 512 * MiB, maxMemoryKiB: 1024 * MiB }, ['memory']],
    ['a vCPU maximum declared', base, { ...base, maxVcpus: 4 }, ['maxVcpus']],
    ['an extra NIC added: interfaces, not network or vlan', base, { ...base, nics: [...base.nics, extra] }, ['interfaces']],
    ['extra NICs in another order: the same', { ...base, nics: [...base.nics, extra, other] }, { ...base, nics: [...base.nics, other, extra] }, []],
  ])('%s', (_label, a, b, expected) => {
    expect(diffFacts(a, b)).toEqual(expected);
    expect(diffFacts(b, a)).toEqual(expected);
  });
});
