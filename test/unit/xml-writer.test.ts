// The XML writer against the library builder it replaced (fast-xml-parser's XMLBuilder with the
// options domain XML was built with): the same bytes for the same tree.
import { XMLBuilder } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { writeXml, type XmlTree } from '../../src/reconcilers/virtual-machine/xml-writer.js';
import { buildDomainXml, domainTree, ownerElementXml, type DomainDefinition } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { diskDeviceXml, extraNicDeviceXml } from '../../src/reconcilers/virtual-machine/device-xml.js';

const library = new XMLBuilder({
  ignoreAttributes: false, attributeNamePrefix: '@', textNodeName: '#text',
  suppressEmptyNode: true, format: true, processEntities: true, suppressBooleanAttributes: false,
});
const reference = (tree: XmlTree) => library.build(tree) as string;

const HOSTILE = ['', 'true', 'false', '0', '-0', 'a<b>c', '"quoted"', "it's", 'a&amp;b', '&', ']]>', '<!-- x -->', '</name><evil/>', 'ünïcødé', ' spaced ', 'line\nbreak', 'tab\tz'];

/** A small deterministic generator (no dependency): trees of the shapes domain XML uses. */
function generator(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const value = (): string | number => (next() < 0.3 ? Math.floor(next() * 2000) - 5 : pick(HOSTILE));
  const tree = (depth: number): unknown => {
    const r = next();
    if (depth === 0 || r < 0.25) return value();
    const node: XmlTree = {};
    const n = Math.floor(next() * 4);
    for (let i = 0; i < n; i++) node[`@${pick(['type', 'name', 'dev', 'file', 'id', 'x:y'])}${i}`] = value();
    if (next() < 0.3) {
      node['#text'] = value(); // text, or children: never both (domain XML has no mixed content)
    } else {
      const kids = Math.floor(next() * 4);
      for (let i = 0; i < kids; i++) {
        const name = pick(['disk', 'source', 'target', 'vlan', 'tag', 'acpi', 'w:vm']) + i;
        node[name] = next() < 0.2 ? [tree(depth - 1), tree(depth - 1)] : tree(depth - 1);
      }
    }
    return node;
  };
  return () => ({ root: tree(4) });
}

describe('writeXml', () => {
  it('writes what the library builder writes, over 2000 generated trees', () => {
    const next = generator(20261203);
    for (let i = 0; i < 2000; i++) {
      const tree = next();
      expect(writeXml(tree), JSON.stringify(tree)).toBe(reference(tree));
    }
  });

  it('escapes every value, in text and attributes, so nothing injects an element', () => {
    const tree = { domain: { '@type': '"><evil x="', name: '</name><evil/>', empty: '', n: 0, neg: -0 } };
    expect(writeXml(tree)).toBe(reference(tree));
    expect(writeXml(tree)).not.toContain('<evil');
  });

  const definition = (over: Partial<DomainDefinition> = {}): DomainDefinition => ({
    name: 'default_vm-1', uuid: '6c1a8f0e-0000-4000-8000-000000000001', type: 'qemu', memoryKiB: 131072, vcpus: 1, maxVcpus: 2, maxMemoryKiB: 262144,
    diskPaths: ['/var/lib/wimaxvm/overlays/"a\'&<b>.qcow2', '/d2.qcow2'], mac: '52:54:00:00:00:01',
    nic: { type: 'bridge', source: 'br-wimax', openvswitch: true, vlan: 101, port: 'wx0123456789a' }, extraNics: [{ mac: '52:54:00:00:00:02', network: 'default' }],
    owner: { uid: 'u', namespace: 'default', name: 'true', generation: 3, specHash: 'h', mac: '52:54:00:00:00:01', vlan: 101, ip: '10.0.0.2', controller: 'c', startedOnce: true, restartedAt: 'r', lease: { startedAt: 's', expiresAt: 'e', renewedAt: 'w', duration: '1h', onExpiry: 'Stop' } as never, adopted: true },
    serialLog: true, seedPath: '/seed/cidata.iso', ...over,
  });

  it('builds the same domain and device XML as the library did', () => {
    // What buildDomainXml wrote with the library: the tree it builds, through the reference builder.
    for (const def of [definition(), definition({ type: 'test', seedPath: undefined, extraNics: undefined, maxVcpus: undefined, nic: { type: 'user' } }), definition({ nic: { type: 'network', source: 'n<1>' } })]) {
      const xml = buildDomainXml(def);
      expect(xml).toBe(reference(domainTree(def)));
      expect(xml).toMatch(/^<domain type="(qemu|test)">\n/);
      expect(xml).toContain(`<source file="/var/lib/wimaxvm/overlays/&quot;a&apos;&amp;&lt;b&gt;.qcow2"/>`);
    }
    expect(diskDeviceXml('/p&q', 1)).toBe(reference({ disk: { '@type': 'file', '@device': 'disk', driver: { '@name': 'qemu', '@type': 'qcow2' }, source: { '@file': '/p&q' }, target: { '@dev': 'vdb', '@bus': 'virtio' } } }));
    expect(extraNicDeviceXml({ mac: 'm', network: 'n' })).toBe(reference({ interface: { '@type': 'network', mac: { '@address': 'm' }, model: { '@type': 'virtio' }, source: { '@network': 'n' } } }));
    expect(ownerElementXml(definition().owner)).toBe(reference({ vm: { '@uid': 'u', '@namespace': 'default', '@name': 'true', '@generation': 3, '@specHash': 'h', '@mac': '52:54:00:00:00:01', '@vlan': 101, '@ip': '10.0.0.2', '@controller': 'c', '@startedOnce': 'yes', '@restartedAt': 'r', '@leaseStartedAt': 's', '@leaseExpiresAt': 'e', '@leaseRenewedAt': 'w', '@adopted': 'yes' } }).trim());
  });
});
