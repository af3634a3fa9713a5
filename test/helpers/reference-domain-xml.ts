// The domain XML reader as it was before src/reconcilers/virtual-machine/domain-xml-reader.ts:
// fast-xml-parser's object tree, read field by field. Kept as the reference the new reader is
// held equal to (test/unit/domain-xml-reader.test.ts).
import { XMLParser } from 'fast-xml-parser';
import { LIVE_METADATA_NS } from '../../src/reconcilers/virtual-machine/live-metadata.js';
import { METADATA_NS, type OwnerMetadata, type ParsedDomain } from '../../src/reconcilers/virtual-machine/domain-xml.js';

function readBalloonTarget(metadata: unknown): number | undefined {
  if (!metadata || typeof metadata !== 'object') return undefined;
  for (const [element, child] of Object.entries(metadata as Record<string, unknown>)) {
    if (!child || typeof child !== 'object') continue;
    const attrs = child as Record<string, string>;
    const colon = element.indexOf(':');
    if (attrs[colon < 0 ? '@xmlns' : `@xmlns:${element.slice(0, colon)}`] !== LIVE_METADATA_NS) continue;
    const kib = Number(attrs['@memory']);
    if (Number.isInteger(kib) && kib > 0) return kib;
  }
  return undefined;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => name === 'disk' || name === 'interface' || name === 'graphics',
});

function text(node: unknown): string | undefined {
  if (node === undefined || node === null) return undefined;
  if (typeof node === 'object') return (node as Record<string, unknown>)['#text'] as string | undefined;
  return String(node);
}

function toKiB(value: number, unit = 'KiB'): number {
  const factors: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, KiB: 1, k: 1, MiB: 1024, M: 1024, GiB: 1024 ** 2, G: 1024 ** 2 };
  return Math.round(value * (factors[unit] ?? 1));
}

/** Finds wimaxvm's element in <metadata> by its namespace URI, whatever prefix libvirt kept. */
function readOwner(metadata: unknown): OwnerMetadata | undefined {
  if (!metadata || typeof metadata !== 'object') return undefined;
  for (const [element, child] of Object.entries(metadata as Record<string, unknown>)) {
    if (!child || typeof child !== 'object') continue;
    const attrs = child as Record<string, string>;
    // Ours only if the element's own prefix (or the default namespace) is bound to our URI.
    const colon = element.indexOf(':');
    const isOurs = attrs[colon < 0 ? '@xmlns' : `@xmlns:${element.slice(0, colon)}`] === METADATA_NS;
    if (!isOurs || !attrs['@uid'] || !attrs['@name'] || !attrs['@namespace']) continue;
    return {
      uid: attrs['@uid'],
      namespace: attrs['@namespace'],
      name: attrs['@name'],
      generation: Number(attrs['@generation'] ?? 0),
      specHash: attrs['@specHash'] ?? '',
      mac: attrs['@mac'] ?? '',
      ...(attrs['@vlan'] !== undefined ? { vlan: Number(attrs['@vlan']) } : {}),
      ...(attrs['@ip'] !== undefined ? { ip: attrs['@ip'] } : {}),
      ...(attrs['@controller'] !== undefined ? { controller: attrs['@controller'] } : {}),
      ...(attrs['@startedOnce'] === 'yes' ? { startedOnce: true } : {}),
      ...(attrs['@restartedAt'] !== undefined ? { restartedAt: attrs['@restartedAt'] } : {}),
      ...(attrs['@leaseStartedAt'] !== undefined && attrs['@leaseExpiresAt'] !== undefined ? {
        lease: { startedAt: attrs['@leaseStartedAt'], expiresAt: attrs['@leaseExpiresAt'], ...(attrs['@leaseRenewedAt'] !== undefined ? { renewedAt: attrs['@leaseRenewedAt'] } : {}) },
      } : {}),
      ...(attrs['@adopted'] === 'yes' ? { adopted: true } : {}),
    };
  }
  return undefined;
}

export function referenceParseDomainXml(xml: string): ParsedDomain {
  const doc = parser.parse(xml) as { domain?: Record<string, any> };
  const d = doc.domain;
  if (!d) throw new Error('not a libvirt domain XML document');
  const memory = d.memory;
  const current = d.currentMemory;
  const maxMemoryKiB = toKiB(Number(text(memory)), memory?.['@unit']);
  const memoryKiB = readBalloonTarget(d.metadata) ?? (current !== undefined ? toKiB(Number(text(current)), current?.['@unit']) : maxMemoryKiB);
  const maxVcpus = Number(text(d.vcpu));
  const vcpus = d.vcpu?.['@current'] !== undefined ? Number(d.vcpu['@current']) : maxVcpus;
  const devices = d.devices ?? {};
  const vnc = (devices.graphics ?? []).find((g: Record<string, string>) => g['@type'] === 'vnc');
  const vncPort = vnc && Number(vnc['@port']) > 0 ? Number(vnc['@port']) : undefined;
  const owner = readOwner(d.metadata);
  return {
    name: text(d.name) ?? '',
    uuid: text(d.uuid) ?? '',
    facts: {
      memoryKiB,
      ...(maxMemoryKiB > memoryKiB ? { maxMemoryKiB } : {}),
      vcpus,
      ...(maxVcpus > vcpus ? { maxVcpus } : {}),
      diskPaths: (devices.disk ?? [])
        .filter((disk: any) => disk['@device'] === undefined || disk['@device'] === 'disk')
        .map((disk: any) => disk.source?.['@file'] ?? ''),
      nics: (devices.interface ?? []).map((nic: any) => ({
        mac: String(nic.mac?.['@address'] ?? '').toLowerCase(),
        type: nic['@type'],
        ...(nic.source?.['@network'] ?? nic.source?.['@bridge'] ? { source: nic.source['@network'] ?? nic.source['@bridge'] } : {}),
        ...(nic.vlan?.tag?.['@id'] !== undefined ? { vlan: Number(nic.vlan.tag['@id']) } : {}),
        ...(nic['@type'] === 'bridge' && nic.target?.['@dev'] ? { port: String(nic.target['@dev']) } : {}),
      })),
    },
    ...(owner ? { owner } : {}),
    ...(vncPort ? { vncPort } : {}),
  };
}

