// The streaming domain XML reader against the object-tree reader it replaced
// (test/helpers/reference-domain-xml.ts): the same ParsedDomain for libvirt's own XML (the test
// driver's, read back; QEMU's, captured from qemu:///system: persistent, and live with a balloon
// target), for our builder's, and for hand-made and mutated variants.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnection, type Connection } from '../../src/adapters/libvirt/native.js';
import { buildDomainXml, parseDomainXml, type DomainDefinition } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { scanXml } from '../../src/reconcilers/virtual-machine/xml-scanner.js';
import { referenceParseDomainXml } from '../helpers/reference-domain-xml.js';

const sample = (file: string) => readFileSync(new URL(`../helpers/domain-xml-samples/${file}`, import.meta.url), 'utf8');
const run = `${process.pid}-${Date.now().toString(36)}`;

const definition = (name: string, over: Partial<DomainDefinition> = {}): DomainDefinition => ({
  name, uuid: crypto.randomUUID(), type: 'test', memoryKiB: 65536, vcpus: 1, diskPaths: [`/var/lib/wimaxvm/overlays/${name}/"disk'&<0>.qcow2`], mac: '52:54:00:AB:00:01',
  nic: { type: 'bridge', source: 'br-wimax', openvswitch: true, vlan: 101, port: 'wx0123456789a' },
  owner: { uid: 'u-1', namespace: 'lab', name: 'vm <1> & "x"', generation: 2, specHash: 'h', mac: '52:54:00:ab:00:01', vlan: 101, ip: '10.1.0.5', controller: 'c1', startedOnce: true, lease: { startedAt: 'a', expiresAt: 'b' } as never },
  ...over,
});

/** Hand-made variants of a domain XML: what other tools (virsh edit) or libvirt versions may write. */
function variants(xml: string): string[] {
  return [
    xml,
    `<?xml version="1.0" encoding="UTF-8"?>\n<!-- written by hand -->\n${xml}`,
    xml.replace(/"/g, "'").replace(/'([^']*)'/g, (_m, v: string) => `'${v.replace(/&quot;/g, '"')}'`),
    xml.replace('<metadata>', '<metadata>\n<other:x xmlns:other="urn:other" uid="u" name="n" namespace="ns"><![CDATA[ <not>an element</not> & ]]></other:x><!-- c -->'),
    xml.replace('<metadata>', '<metadata><wimaxvm:vm xmlns:wimaxvm="urn:not-ours" uid="evil" name="evil" namespace="evil"/>'),
    xml.replace(/<name>/, '<name>  ').replace(/<\/name>/, '  </name>'),
    xml.replace(/<devices>/, "<devices>\n<graphics type='spice' port='5999'/>\n<disk type='block' device='disk'><source dev='/dev/sdz'/><target dev='vdz'/></disk><disk type='file' device='cdrom'><source file='/x.iso'/></disk>"),
    xml.replace(/<\/devices>/, "<interface type='bridge'><mac address='52:54:00:00:00:FE'/><source bridge='b2'/><vlan trunk='yes'><tag id='5'/><tag id='6'/></vlan><target dev='vnet9'/></interface></devices>"),
    xml.replace(/<\/devices>/, "<interface type='user'><mac address='52:54:00:00:00:FD'/></interface><graphics type='vnc' port='5907' autoport='no'/></devices>"),
  ];
}

describe('parseDomainXml (streaming) equals the object-tree reader', () => {
  let conn: Connection;
  beforeAll(async () => { conn = await openConnection('test:///default'); });
  afterAll(async () => { await conn.close(); });

  it("on libvirt's XML for domains our builder made, persistent and live, and on variants of each", async () => {
    const defs = [
      definition(`dxr-${run}-a`),
      definition(`dxr-${run}-b`, { maxVcpus: 3, maxMemoryKiB: 131072, extraNics: [{ mac: '52:54:00:ab:00:02', network: 'default' }], nic: { type: 'network', source: 'default' }, seedPath: '/seed.iso' }),
      definition(`dxr-${run}-c`, { nic: { type: 'user' }, diskPaths: [], owner: { uid: 'u', namespace: 'n', name: 'true', generation: 1, specHash: '', mac: '' } }),
    ];
    const xmls: string[] = [sample('qemu-persistent.xml'), sample('qemu-live-running.xml')];
    for (const def of defs) {
      xmls.push(buildDomainXml(def));
      const domain = await conn.defineDomain(buildDomainXml(def));
      try {
        xmls.push(await domain.getXmlDesc({ inactive: true }));
        await domain.create();
        xmls.push(await domain.getXmlDesc());
        await domain.destroy();
      } finally {
        await domain.undefine();
      }
    }
    let compared = 0;
    for (const xml of xmls) {
      for (const variant of variants(xml)) {
        expect(parseDomainXml(variant), variant).toEqual(referenceParseDomainXml(variant));
        compared++;
      }
    }
    expect(compared).toBe(xmls.length * 9);
    // Numeric character references are decoded (the old reader left them as they were written).
    const xml = xmls[0]!;
    expect(parseDomainXml(xml.replace(/<name>([^<]*)<\/name>/, '<name>$1&#x2d;&#45;</name>'))).toEqual(referenceParseDomainXml(xml.replace(/<name>([^<]*)<\/name>/, '<name>$1--</name>')));
    // The samples are read as libvirt wrote them: the live balloon target, the owner with entities.
    const live = parseDomainXml(sample('qemu-live-running.xml'));
    expect(live.facts.memoryKiB).toBe(49152);
    expect(live.owner?.name).toBe('vm "1" <&>');
    expect(live.vncPort).toBeGreaterThan(0);
  });

  it('refuses what is not a domain, and malformed XML', () => {
    expect(() => parseDomainXml('<network><name>n</name></network>')).toThrow(/not a libvirt domain/);
    expect(() => parseDomainXml('<domain><name>x</domain>')).toThrow(/does not close/);
    expect(() => parseDomainXml('<domain><name>x</name>')).toThrow(/not closed/);
    expect(() => parseDomainXml("<domain><name a='1>x</name></domain>")).toThrow(/unterminated/);
  });

  it('a second wimaxvm element in <metadata> makes neither ours (as before)', () => {
    const xml = buildDomainXml(definition('dup'));
    const doubled = xml.replace('<metadata>', '<metadata>\n' + /<wimaxvm:vm [^>]*\/>/.exec(xml)![0]);
    expect(referenceParseDomainXml(doubled).owner).toBeUndefined();
    expect(parseDomainXml(doubled).owner).toBeUndefined();
    expect(parseDomainXml(xml).owner?.uid).toBe('u-1');
  });
});

describe('scanXml', () => {
  it('gives elements in order with decoded attributes and trimmed text; CDATA is text', () => {
    const seen: string[] = [];
    scanXml(`<?xml version='1.0'?><!DOCTYPE a [<!ENTITY x "y">]><a k="&lt;&#65;&#x42;&amp;&gt;"> t&amp;1 <b/><c><![CDATA[<&>]]></c><!-- <d/> --></a>`, {
      open: (name, attrs, depth) => seen.push(`open ${name} ${JSON.stringify(attrs)} ${depth}`),
      close: (name, text, depth) => seen.push(`close ${name} ${JSON.stringify(text)} ${depth}`),
    });
    expect(seen).toEqual([
      'open a {"k":"<AB&>"} 1', 'open b {} 2', 'close b "" 2', 'open c {} 2', 'close c "<&>" 2', 'close a "t&1" 1',
    ]);
  });
});
