// Domain XML for a VirtualMachine, built and read with a real XML library so that no name,
// path or value can inject elements. Pure: no I/O.
import { createHash } from 'node:crypto';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

/** The namespace of wimaxvm's element inside a domain's <metadata>: the mark of ownership. */
export const METADATA_NS = 'https://wimaxvm.io/xmlns/domain/v1alpha1';
const METADATA_PREFIX = 'wimaxvm';

export interface OwnerMetadata {
  uid: string;
  namespace: string;
  name: string;
  generation: number;
  specHash: string;
  mac: string;
  vlan?: number;
  /** The identity of the controller that made the domain (absent on domains made before identities). */
  controller?: string;
  /** The guest was started at least once (what runStrategy Once and RerunOnFailure must remember). */
  startedOnce?: boolean;
  /** The last restart request handled (the wimaxvm.io/restartedAt annotation's value). */
  restartedAt?: string;
  /**
   * Claimed by `wimaxvm adopt` (src/adoption/): the definition is the domain's own, not one
   * wimaxvm made, and specHash is the adopted spec's fingerprint (src/adoption/fingerprint.ts).
   */
  adopted?: boolean;
}

export type NicAttachment =
  | { type: 'user' }
  | { type: 'network'; source: string }
  | { type: 'bridge'; source: string; openvswitch: boolean; vlan?: number; port?: string };

/**
 * The switch port name of a VM on a bridge: fixed by wimaxvm (libvirt's vnetN changes on every
 * start), at most 15 characters (IFNAMSIZ), derived from the domain name.
 */
export function vmPortName(domainName: string): string {
  return `wx${createHash('sha256').update(domainName).digest('hex').slice(0, 11)}`;
}

/**
 * Where virtlogd keeps a guest's serial console (ttyS0), next to libvirt's own NAME.log: readable
 * while the guest runs and after, appended across starts and restores, rotated by virtlogd.
 * A domain name has at most 247 bytes, so NAME.serial fits a file name (255).
 */
export function serialLogPath(domainName: string): string {
  return `/var/log/libvirt/qemu/${domainName}.serial`;
}

/**
 * Whether guests on this connection get their serial console logged to serialLogPath: only
 * the system QEMU driver (local or remote) logs into /var/log/libvirt/qemu; a session daemon
 * cannot open files there ("Permission denied" at start), so its guests keep the port unlogged.
 */
export function logsSerialConsole(uri: string): boolean {
  return /^qemu(\+[a-z]+)?:\/\/[^/]*\/system(\?|$)/.test(uri);
}

export interface DomainDefinition {
  name: string;
  uuid: string;
  type: 'kvm' | 'qemu' | 'test';
  memoryKiB: number;
  vcpus: number;
  diskPaths: string[];
  mac: string;
  nic: NicAttachment;
  owner: OwnerMetadata;
  /** Log the serial console to serialLogPath (see logsSerialConsole). */
  serialLog?: boolean;
}

/** The parts of a domain the controller manages; compared to find drift and needed restarts. */
export interface DomainFacts {
  memoryKiB: number;
  vcpus: number;
  diskPaths: string[];
  nics: { mac: string; type: string; source?: string; vlan?: number; port?: string }[];
}

export interface ParsedDomain {
  name: string;
  uuid: string;
  facts: DomainFacts;
  owner?: OwnerMetadata;
  vncPort?: number;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  suppressEmptyNode: true,
  format: true,
  processEntities: true,
  // By default an attribute whose value is "true" is written bare (`name`): malformed XML for a
  // VM or namespace named "true" (found by the fuzz tier).
  suppressBooleanAttributes: false,
});

function nicXml(mac: string, nic: NicAttachment): Record<string, unknown> {
  const base: Record<string, unknown> = { '@type': nic.type, mac: { '@address': mac }, model: { '@type': 'virtio' } };
  if (nic.type === 'network') base.source = { '@network': nic.source };
  if (nic.type === 'bridge') {
    base.source = { '@bridge': nic.source };
    if (nic.openvswitch) base.virtualport = { '@type': 'openvswitch' };
    if (nic.vlan !== undefined) base.vlan = { tag: { '@id': nic.vlan } };
    if (nic.port !== undefined) base.target = { '@dev': nic.port };
  }
  return base;
}

/** wimaxvm's metadata element's attributes (without its namespace declaration). */
export function ownerAttributes(owner: OwnerMetadata): Record<string, string | number> {
  const attrs: Record<string, string | number> = {
    '@uid': owner.uid,
    '@namespace': owner.namespace,
    '@name': owner.name,
    '@generation': owner.generation,
    '@specHash': owner.specHash,
    '@mac': owner.mac,
  };
  if (owner.vlan !== undefined) attrs['@vlan'] = owner.vlan;
  if (owner.controller !== undefined) attrs['@controller'] = owner.controller;
  if (owner.startedOnce) attrs['@startedOnce'] = 'yes'; // not 'true': the builder would write a bare attribute
  if (owner.restartedAt !== undefined) attrs['@restartedAt'] = owner.restartedAt;
  if (owner.adopted) attrs['@adopted'] = 'yes';
  return attrs;
}

/**
 * The metadata element alone, for virDomainSetMetadata (key METADATA_PREFIX, namespace
 * METADATA_NS): libvirt puts the prefix and the namespace declaration on it.
 */
export function ownerElementXml(owner: OwnerMetadata): string {
  return (builder.build({ vm: ownerAttributes(owner) }) as string).trim();
}

/** The prefix wimaxvm's element gets in <metadata> (the key of virDomainSetMetadata). */
export const METADATA_KEY = METADATA_PREFIX;

export function buildDomainXml(def: DomainDefinition): string {
  const owner: Record<string, unknown> = { [`@xmlns:${METADATA_PREFIX}`]: METADATA_NS, ...ownerAttributes(def.owner) };
  const domain = {
    domain: {
      '@type': def.type,
      name: def.name,
      uuid: def.uuid,
      metadata: { [`${METADATA_PREFIX}:vm`]: owner },
      memory: { '@unit': 'KiB', '#text': def.memoryKiB },
      currentMemory: { '@unit': 'KiB', '#text': def.memoryKiB },
      vcpu: def.vcpus,
      os: { type: { '@arch': 'x86_64', '#text': 'hvm' }, boot: { '@dev': 'hd' } },
      features: { acpi: '' },
      on_poweroff: 'destroy',
      on_reboot: 'restart',
      // Kept in the crashed state so that RerunOnFailure can tell a crash from a clean stop.
      on_crash: 'preserve',
      devices: {
        disk: def.diskPaths.map((path, i) => ({
          '@type': 'file',
          '@device': 'disk',
          driver: { '@name': 'qemu', '@type': 'qcow2' },
          source: { '@file': path },
          target: { '@dev': `vd${String.fromCharCode(97 + i)}`, '@bus': 'virtio' },
        })),
        interface: nicXml(def.mac, def.nic),
        // A serial port (libvirt adds the console on it for `virsh console`), logged to a file
        // where the driver can. Not on the test driver, which has no guests to speak.
        ...(def.type === 'test' ? {} : { serial: { '@type': 'pty', ...(def.serialLog ? { log: { '@file': serialLogPath(def.name), '@append': 'on' } } : {}) } }),
        graphics: { '@type': 'vnc', '@port': '-1', '@autoport': 'yes', '@listen': '127.0.0.1' },
      },
    },
  };
  return builder.build(domain) as string;
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
      ...(attrs['@controller'] !== undefined ? { controller: attrs['@controller'] } : {}),
      ...(attrs['@startedOnce'] === 'yes' ? { startedOnce: true } : {}),
      ...(attrs['@restartedAt'] !== undefined ? { restartedAt: attrs['@restartedAt'] } : {}),
      ...(attrs['@adopted'] === 'yes' ? { adopted: true } : {}),
    };
  }
  return undefined;
}

export function parseDomainXml(xml: string): ParsedDomain {
  const doc = parser.parse(xml) as { domain?: Record<string, any> };
  const d = doc.domain;
  if (!d) throw new Error('not a libvirt domain XML document');
  const memory = d.memory;
  const devices = d.devices ?? {};
  const vnc = (devices.graphics ?? []).find((g: Record<string, string>) => g['@type'] === 'vnc');
  const vncPort = vnc && Number(vnc['@port']) > 0 ? Number(vnc['@port']) : undefined;
  const owner = readOwner(d.metadata);
  return {
    name: text(d.name) ?? '',
    uuid: text(d.uuid) ?? '',
    facts: {
      memoryKiB: toKiB(Number(text(memory)), memory?.['@unit']),
      vcpus: Number(text(d.vcpu)),
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

/** The facts a definition will produce once libvirt has it, for comparing with what it has. */
export function factsOf(def: DomainDefinition): DomainFacts {
  const nic = def.nic;
  return {
    memoryKiB: def.memoryKiB,
    vcpus: def.vcpus,
    diskPaths: def.diskPaths,
    nics: [{
      mac: def.mac.toLowerCase(),
      type: nic.type,
      ...(nic.type !== 'user' ? { source: nic.source } : {}),
      ...(nic.type === 'bridge' && nic.vlan !== undefined ? { vlan: nic.vlan } : {}),
      ...(nic.type === 'bridge' && nic.port !== undefined ? { port: nic.port } : {}),
    }],
  };
}

const withoutVlan = (nics: DomainFacts['nics']) => nics.map(({ vlan: _vlan, ...rest }) => rest);

/**
 * The fields of `a` and `b` that differ, by name (empty when equal). The VLAN is its own field:
 * on a running guest it is changed through the switch, not by a restart.
 */
export function diffFacts(a: DomainFacts, b: DomainFacts): string[] {
  const out: string[] = [];
  if (a.memoryKiB !== b.memoryKiB) out.push('memory');
  if (a.vcpus !== b.vcpus) out.push('vcpus');
  if (JSON.stringify(a.diskPaths) !== JSON.stringify(b.diskPaths)) out.push('disks');
  if (JSON.stringify(withoutVlan(a.nics)) !== JSON.stringify(withoutVlan(b.nics))) out.push('network');
  if (JSON.stringify(a.nics.map((n) => n.vlan)) !== JSON.stringify(b.nics.map((n) => n.vlan))) out.push('vlan');
  return out;
}
