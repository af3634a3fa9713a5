import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  buildDomainXml, diffFacts, factsOf, logsSerialConsole, METADATA_NS, parseDomainXml, serialLogPath,
  type DomainDefinition, type DomainFacts, type NicAttachment,
} from '../../src/reconcilers/virtual-machine/domain-xml.js';

function def(overrides: Partial<DomainDefinition> = {}): DomainDefinition {
  return {
    name: 'vm30',
    uuid: '6f1c2a1e-0000-4000-8000-000000000030',
    type: 'kvm',
    memoryKiB: 262144,
    vcpus: 2,
    diskPaths: ['/var/lib/wimaxvm/overlays/vm30-0.qcow2', '/var/lib/wimaxvm/overlays/vm30-1.qcow2'],
    mac: '52:54:00:12:34:56',
    nic: { type: 'user' },
    owner: { uid: 'uid-30', namespace: 'default', name: 'vm30', generation: 3, specHash: 'abc123', mac: '52:54:00:12:34:56' },
    ...overrides,
  };
}

/** Every element as an array, so counts are visible; attributes kept. */
const strict = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute, parseTagValue: false });

function elementNames(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) elementNames(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (!k.startsWith('@') && k !== '#text') out.push(k);
      elementNames(v, out);
    }
  }
  return out;
}

const NIC_VARIANTS: [string, NicAttachment][] = [
  ['user', { type: 'user' }],
  ['network', { type: 'network', source: 'default' }],
  ['bridge', { type: 'bridge', source: 'br0', openvswitch: false }],
  ['bridge with vlan', { type: 'bridge', source: 'br0', openvswitch: false, vlan: 12 }],
  ['ovs', { type: 'bridge', source: 'ovsbr0', openvswitch: true }],
  ['ovs with vlan', { type: 'bridge', source: 'ovsbr0', openvswitch: true, vlan: 4094 }],
  ['ovs with vlan 0', { type: 'bridge', source: 'ovsbr0', openvswitch: true, vlan: 0 }],
];

describe('buildDomainXml / parseDomainXml round trip', () => {
  it.each([
    ['defaults', def()],
    ['no disks', def({ diskPaths: [] })],
    ['one disk', def({ diskPaths: ['/img/a.qcow2'] })],
    ['upper-case MAC', def({ mac: '52:54:00:AB:CD:EF' })],
    ['test type', def({ type: 'test', vcpus: 1, memoryKiB: 1024 })],
    ...NIC_VARIANTS.map(([label, nic]): [string, DomainDefinition] => [`nic ${label}`, def({ nic })]),
  ])('%s', (_label, d) => {
    const parsed = parseDomainXml(buildDomainXml(d));
    expect(parsed.facts).toEqual(factsOf(d));
    expect(parsed.name).toBe(d.name);
    expect(parsed.uuid).toBe(d.uuid);
    expect(parsed.owner).toEqual(d.owner);
    expect(parsed.vncPort).toBeUndefined();
  });

  it('keeps the owner vlan', () => {
    const d = def({ owner: { ...def().owner, vlan: 7, generation: 0 } });
    expect(parseDomainXml(buildDomainXml(d)).owner).toEqual({ ...d.owner, vlan: 7, generation: 0 });
  });

  it('keeps the lease in force (a lost state store must not start it again), and none when there is none', () => {
    const lease = { startedAt: '2026-12-03T10:00:00.000Z', expiresAt: '2026-12-03T12:00:00.000Z', renewedAt: '2026-12-03T09:59:58Z' };
    const d = def({ owner: { ...def().owner, lease } });
    expect(parseDomainXml(buildDomainXml(d)).owner).toEqual({ ...def().owner, lease });
    const { renewedAt: _, ...unrenewed } = lease;
    expect(parseDomainXml(buildDomainXml(def({ owner: { ...def().owner, lease: unrenewed } }))).owner?.lease).toEqual(unrenewed);
    expect(parseDomainXml(buildDomainXml(def())).owner?.lease).toBeUndefined();
  });

  it('lowercases the MAC it reads', () => {
    expect(parseDomainXml(buildDomainXml(def({ mac: '52:54:00:AB:CD:EF' }))).facts.nics[0]!.mac).toBe('52:54:00:ab:cd:ef');
  });

  it('reads a live VNC port and memory in other units', () => {
    const xml = `<domain type="kvm"><name>x</name><uuid>u</uuid><memory unit="MiB">512</memory><vcpu placement="static">3</vcpu>
      <devices><disk type="file" device="cdrom"><source file="/iso/a.iso"/></disk><disk type="file" device="disk"><source file="/d.qcow2"/></disk>
      <graphics type="spice" port="5901"/><graphics type="vnc" port="5900" autoport="yes"/></devices></domain>`;
    const parsed = parseDomainXml(xml);
    expect(parsed.facts).toEqual({ memoryKiB: 524288, vcpus: 3, diskPaths: ['/d.qcow2'], nics: [] });
    expect(parsed.vncPort).toBe(5900);
    expect(parsed.owner).toBeUndefined();
  });

  it('rejects a document that is not a domain', () => {
    expect(() => parseDomainXml('<network><name>default</name></network>')).toThrow(/not a libvirt domain/);
  });
});

describe('no injection through names, paths or metadata values', () => {
  const NASTY = [
    '</name><evil/>',
    'a<b>c',
    'a & b',
    'say "hi"',
    "it's",
    '&amp;lt;',
    '&#60;evil/&#62;',
    ']]><evil/><![CDATA[',
    '<!-- x -->',
  ];

  it.each(NASTY)('%j', (nasty) => {
    const d = def({
      name: nasty,
      uuid: nasty,
      diskPaths: [`/img/${nasty}.qcow2`, nasty],
      nic: { type: 'bridge', source: nasty, openvswitch: true, vlan: 5 },
      owner: { uid: nasty, namespace: nasty, name: nasty, generation: 1, specHash: nasty, mac: nasty },
    });
    const xml = buildDomainXml(d);
    const parsed = parseDomainXml(xml);
    expect(parsed.name).toBe(nasty);
    expect(parsed.uuid).toBe(nasty);
    expect(parsed.facts.diskPaths).toEqual([`/img/${nasty}.qcow2`, nasty]);
    expect(parsed.facts.nics).toEqual([{ mac: d.mac, type: 'bridge', source: nasty, vlan: 5 }]);
    expect(parsed.owner).toEqual(d.owner);

    const tree = strict.parse(xml) as { domain: Record<string, unknown[]>[] };
    expect(tree.domain).toHaveLength(1);
    const domain = tree.domain[0]!;
    expect(domain.name).toHaveLength(1);
    expect(domain.uuid).toHaveLength(1);
    expect((domain.devices![0] as Record<string, unknown[]>).disk).toHaveLength(2);
    expect((domain.devices![0] as Record<string, unknown[]>).interface).toHaveLength(1);
    expect(elementNames(tree)).not.toContain('evil');
  });
});

describe('owner metadata', () => {
  const xml = buildDomainXml(def());

  it('is written under the wimaxvm prefix and our namespace', () => {
    expect(xml).toContain(`xmlns:wimaxvm="${METADATA_NS}"`);
    expect(xml).toMatch(/<wimaxvm:vm\s/);
  });

  it.each([
    ['foo:', 'xmlns:foo'],
    ['ns0:', 'xmlns:ns0'],
    ['', 'xmlns'], // default namespace, no prefix
  ])('is found with prefix %j', (prefix, decl) => {
    const renamed = xml.replaceAll('wimaxvm:vm', `${prefix}vm`).replace('xmlns:wimaxvm=', `${decl}=`);
    expect(renamed).not.toContain('wimaxvm:');
    expect(parseDomainXml(renamed).owner).toEqual(def().owner);
  });

  it('is found next to metadata of other programs', () => {
    const withOthers = xml.replace('<metadata>', '<metadata><other:info xmlns:other="urn:other" uid="x" name="y" namespace="z"/>');
    expect(parseDomainXml(withOthers).owner).toEqual(def().owner);
  });

  it.each([
    ['no <metadata>', '<domain type="kvm"><name>vm30</name><uuid>u</uuid><memory>1024</memory><vcpu>1</vcpu></domain>'],
    ['empty <metadata>', '<domain type="kvm"><name>vm30</name><uuid>u</uuid><metadata/><memory>1024</memory><vcpu>1</vcpu></domain>'],
    ['another namespace URI', xml.replace(`xmlns:wimaxvm="${METADATA_NS}"`, 'xmlns:wimaxvm="https://example.com/other"')],
    ['our URI with a different version', xml.replace(METADATA_NS, `${METADATA_NS}2`)],
    ['our element without a uid', xml.replace(/ uid="[^"]*"/, '')],
    ['our element without a name', xml.replace(/ name="vm30"/, '')],
    ['our element without a namespace', xml.replace(/ namespace="[^"]*"/, '')],
  ])('is absent with %s', (_label, doc) => {
    expect(parseDomainXml(doc).owner).toBeUndefined();
  });

  // An element is in the namespace its own prefix is bound to; declaring our URI under another,
  // unused prefix does not put a foreign element in our namespace.
  it('is not claimed for a foreign element that merely declares our namespace', () => {
    const foreign = xml.replace('<wimaxvm:vm xmlns:wimaxvm=', '<other:vm xmlns:other="urn:other" xmlns:wimaxvm=');
    expect(foreign).toContain('<other:vm xmlns:other="urn:other"');
    expect(parseDomainXml(foreign).owner).toBeUndefined();
  });
});

describe('nic XML', () => {
  function iface(nic: NicAttachment): Record<string, any> {
    const tree = strict.parse(buildDomainXml(def({ nic }))) as any;
    return tree.domain[0].devices[0].interface[0];
  }

  it.each<[string, NicAttachment, Record<string, unknown>]>([
    ['user', { type: 'user' }, { type: 'user', source: undefined, virtualport: undefined, vlan: undefined }],
    ['network', { type: 'network', source: 'default' }, { type: 'network', source: { '@network': 'default' }, virtualport: undefined, vlan: undefined }],
    ['bridge', { type: 'bridge', source: 'br0', openvswitch: false }, { type: 'bridge', source: { '@bridge': 'br0' }, virtualport: undefined, vlan: undefined }],
    ['bridge with vlan', { type: 'bridge', source: 'br0', openvswitch: false, vlan: 12 }, { type: 'bridge', source: { '@bridge': 'br0' }, virtualport: undefined, vlan: '12' }],
    ['ovs', { type: 'bridge', source: 'ovsbr0', openvswitch: true }, { type: 'bridge', source: { '@bridge': 'ovsbr0' }, virtualport: 'openvswitch', vlan: undefined }],
    ['ovs with vlan', { type: 'bridge', source: 'ovsbr0', openvswitch: true, vlan: 30 }, { type: 'bridge', source: { '@bridge': 'ovsbr0' }, virtualport: 'openvswitch', vlan: '30' }],
  ])('%s', (_label, nic, want) => {
    const i = iface(nic);
    expect(i['@type']).toBe(want.type);
    expect(i.mac).toEqual([{ '@address': '52:54:00:12:34:56' }]);
    expect(i.model).toEqual([{ '@type': 'virtio' }]);
    expect(i.source?.[0]).toEqual(want.source);
    expect(i.virtualport?.[0]?.['@type']).toBe(want.virtualport);
    expect(i.vlan?.[0]?.tag?.[0]?.['@id']).toBe(want.vlan);
  });

  it('writes the ovs vlan as <vlan><tag id=…/></vlan> next to <virtualport type="openvswitch"/>', () => {
    const xml = buildDomainXml(def({ nic: { type: 'bridge', source: 'ovsbr0', openvswitch: true, vlan: 30 } }));
    expect(xml).toMatch(/<virtualport type="openvswitch"\/>/);
    expect(xml).toMatch(/<vlan>\s*<tag id="30"\/>\s*<\/vlan>/);
  });

  it('names disks vda, vdb, … in order', () => {
    const tree = strict.parse(buildDomainXml(def({ diskPaths: ['/a', '/b', '/c'] }))) as any;
    const disks = tree.domain[0].devices[0].disk as any[];
    expect(disks.map((d) => [d.source[0]['@file'], d.target[0]['@dev']])).toEqual([['/a', 'vda'], ['/b', 'vdb'], ['/c', 'vdc']]);
  });

  it('gives QEMU guests a serial port logged to serialLogPath where asked, appended across starts; test domains none', () => {
    for (const type of ['kvm', 'qemu'] as const) {
      const serial = (strict.parse(buildDomainXml(def({ type, serialLog: true }))) as any).domain[0].devices[0].serial as any[];
      expect(serial).toHaveLength(1);
      expect(serial[0]['@type']).toBe('pty');
      expect(serial[0].log[0]).toEqual({ '@file': serialLogPath('vm30'), '@append': 'on' });
      const unlogged = (strict.parse(buildDomainXml(def({ type }))) as any).domain[0].devices[0].serial as any[];
      expect(unlogged[0].log).toBeUndefined();
    }
    expect(['qemu:///system', 'qemu+ssh://root@h/system', 'qemu+tls://h/system?no_verify=1'].map(logsSerialConsole)).toEqual([true, true, true]);
    expect(['qemu:///session', 'qemu+unix:///session?socket=/tmp/s', 'test:///default', 'qemu:///systemd'].map(logsSerialConsole)).toEqual([false, false, false, false]);
    expect((strict.parse(buildDomainXml(def({ type: 'test' }))) as any).domain[0].devices[0].serial).toBeUndefined();
    expect(serialLogPath('a'.repeat(247)).split('/').pop()!.length).toBeLessThanOrEqual(255);
  });
});

describe('diffFacts', () => {
  const base: DomainFacts = {
    memoryKiB: 262144,
    vcpus: 1,
    diskPaths: ['/a.qcow2'],
    nics: [{ mac: '52:54:00:00:00:01', type: 'user' }],
  };

  it.each<[string, Partial<DomainFacts>, string[]]>([
    ['nothing', {}, []],
    ['memory', { memoryKiB: 524288 }, ['memory']],
    ['vcpus', { vcpus: 2 }, ['vcpus']],
    ['a disk added', { diskPaths: ['/a.qcow2', '/b.qcow2'] }, ['disks']],
    ['disks removed', { diskPaths: [] }, ['disks']],
    ['disk order', { diskPaths: ['/b.qcow2'] }, ['disks']],
    ['mac', { nics: [{ mac: '52:54:00:00:00:02', type: 'user' }] }, ['network']],
    ['nic type', { nics: [{ mac: '52:54:00:00:00:01', type: 'network', source: 'default' }] }, ['network']],
    ['vlan', { nics: [{ mac: '52:54:00:00:00:01', type: 'user', vlan: 3 }] }, ['vlan']],
    ['everything', { memoryKiB: 1, vcpus: 4, diskPaths: [], nics: [] }, ['memory', 'vcpus', 'disks', 'network', 'vlan']],
  ])('%s', (_label, change, expected) => {
    expect(diffFacts(base, { ...base, ...change })).toEqual(expected);
    expect(diffFacts({ ...base, ...change }, base)).toEqual(expected);
  });
});
