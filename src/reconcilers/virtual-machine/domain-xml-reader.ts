// Reads the facts wimaxvm manages out of a libvirt domain XML (persistent or live), and
// wimaxvm's metadata element, in one streaming pass (xml-scanner.ts): no object tree. Pure.
// test/unit/domain-xml-reader.test.ts holds it equal to the object-tree reader it replaced.
import { METADATA_NS, type DomainFacts, type OwnerMetadata, type ParsedDomain } from './domain-xml.js';
import { inNamespace, readBalloonTarget, type MetadataElement } from './live-metadata.js';
import { scanXml } from './xml-scanner.js';

interface Nic {
  type: string | undefined;
  mac?: string;
  source?: Record<string, string>;
  target?: string;
  /** The <vlan>'s tags: one is the port's tag, several a trunk (no tag read). */
  tags: string[];
}

interface Collected {
  root?: string;
  name?: string;
  uuid?: string;
  memory?: { unit?: string; text?: string };
  currentMemory?: { unit?: string; text?: string };
  vcpu?: { current?: string; text?: string };
  metadata: MetadataElement[];
  disks: { device?: string; file?: string }[];
  nics: Nic[];
  vncPort?: string;
}

/** What the scan keeps, by the element's place: domain/…, its metadata's children, devices/disk|interface|graphics and their children. */
function collect(xml: string): Collected {
  const c: Collected = { metadata: [], disks: [], nics: [] };
  const path: string[] = [];
  scanXml(xml, {
    open(name, attrs, depth) {
      path[depth - 1] = name;
      path.length = depth;
      if (depth === 1) c.root = name;
      if (path[0] !== 'domain' || depth < 2) return;
      if (depth === 2) {
        if (name === 'memory') c.memory = { unit: attrs.unit };
        else if (name === 'currentMemory') c.currentMemory = { unit: attrs.unit };
        else if (name === 'vcpu') c.vcpu = { current: attrs.current };
        return;
      }
      const [, section, device, part] = path;
      if (section === 'metadata' && depth === 3) c.metadata.push({ name, attributes: attrs });
      if (section !== 'devices') return;
      if (depth === 3) {
        if (name === 'disk') c.disks.push({ ...(attrs.device !== undefined ? { device: attrs.device } : {}) });
        else if (name === 'interface') c.nics.push({ type: attrs.type, tags: [] });
        else if (name === 'graphics' && attrs.type === 'vnc' && c.vncPort === undefined) c.vncPort = attrs.port;
        return;
      }
      if (device === 'disk' && depth === 4 && name === 'source') c.disks[c.disks.length - 1]!.file = attrs.file;
      if (device !== 'interface') return;
      const nic = c.nics[c.nics.length - 1]!;
      if (depth === 4 && name === 'mac') nic.mac = attrs.address;
      else if (depth === 4 && name === 'source') nic.source = attrs;
      else if (depth === 4 && name === 'target') nic.target = attrs.dev;
      else if (depth === 5 && part === 'vlan' && name === 'tag') nic.tags.push(attrs.id!);
    },
    close(name, text, depth) {
      if (depth !== 2 || path[0] !== 'domain') return;
      // Their attributes were read at open; the text comes at close.
      if (name === 'name') c.name = text;
      else if (name === 'uuid') c.uuid = text;
      else if (name === 'memory') c.memory!.text = text;
      else if (name === 'currentMemory') c.currentMemory!.text = text;
      else if (name === 'vcpu') c.vcpu!.text = text;
    },
  });
  // Two metadata elements of one name are nobody's: neither is read (libvirt keeps one per namespace).
  const counts = new Map<string, number>();
  for (const { name } of c.metadata) counts.set(name, (counts.get(name) ?? 0) + 1);
  if (counts.size < c.metadata.length) c.metadata = c.metadata.filter(({ name }) => counts.get(name) === 1);
  return c;
}

export function parseDomainXml(xml: string): ParsedDomain {
  const c = collect(xml);
  if (c.root !== 'domain') throw new Error('not a libvirt domain XML document');
  const maxMemoryKiB = toKiB(Number(c.memory?.text), c.memory?.unit);
  const memoryKiB = readBalloonTarget(c.metadata) ?? (c.currentMemory !== undefined ? toKiB(Number(c.currentMemory.text), c.currentMemory.unit) : maxMemoryKiB);
  const maxVcpus = Number(c.vcpu?.text);
  const vcpus = c.vcpu?.current !== undefined ? Number(c.vcpu.current) : maxVcpus;
  const vncPort = c.vncPort !== undefined && Number(c.vncPort) > 0 ? Number(c.vncPort) : undefined;
  const owner = readOwner(c.metadata);
  const facts: DomainFacts = {
    memoryKiB,
    ...(maxMemoryKiB > memoryKiB ? { maxMemoryKiB } : {}),
    vcpus,
    ...(maxVcpus > vcpus ? { maxVcpus } : {}),
    diskPaths: c.disks.filter((disk) => disk.device === undefined || disk.device === 'disk').map((disk) => disk.file ?? ''),
    nics: c.nics.map((nic) => {
      const source = nic.source?.network ?? nic.source?.bridge;
      return {
        mac: (nic.mac ?? '').toLowerCase(),
        type: nic.type!,
        ...(source ? { source } : {}),
        ...(nic.tags.length === 1 ? { vlan: Number(nic.tags[0]) } : {}),
        ...(nic.type === 'bridge' && nic.target ? { port: nic.target } : {}),
      };
    }),
  };
  return { name: c.name ?? '', uuid: c.uuid ?? '', facts, ...(owner ? { owner } : {}), ...(vncPort ? { vncPort } : {}) };
}

function toKiB(value: number, unit = 'KiB'): number {
  const factors: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, KiB: 1, k: 1, MiB: 1024, M: 1024, GiB: 1024 ** 2, G: 1024 ** 2 };
  return Math.round(value * (factors[unit] ?? 1));
}

/** wimaxvm's element in <metadata>, found by its namespace URI whatever prefix libvirt kept. */
export function readOwner(metadata: readonly MetadataElement[]): OwnerMetadata | undefined {
  for (const element of metadata) {
    const attrs = element.attributes;
    if (!inNamespace(element, METADATA_NS) || !attrs.uid || !attrs.name || !attrs.namespace) continue;
    return {
      uid: attrs.uid,
      namespace: attrs.namespace,
      name: attrs.name,
      generation: Number(attrs.generation ?? 0),
      specHash: attrs.specHash ?? '',
      mac: attrs.mac ?? '',
      ...(attrs.vlan !== undefined ? { vlan: Number(attrs.vlan) } : {}),
      ...(attrs.ip !== undefined ? { ip: attrs.ip } : {}),
      ...(attrs.controller !== undefined ? { controller: attrs.controller } : {}),
      ...(attrs.startedOnce === 'yes' ? { startedOnce: true } : {}),
      ...(attrs.restartedAt !== undefined ? { restartedAt: attrs.restartedAt } : {}),
      ...(attrs.leaseStartedAt !== undefined && attrs.leaseExpiresAt !== undefined ? {
        lease: { startedAt: attrs.leaseStartedAt, expiresAt: attrs.leaseExpiresAt, ...(attrs.leaseRenewedAt !== undefined ? { renewedAt: attrs.leaseRenewedAt } : {}) },
      } : {}),
      ...(attrs.adopted === 'yes' ? { adopted: true } : {}),
    };
  }
  return undefined;
}
