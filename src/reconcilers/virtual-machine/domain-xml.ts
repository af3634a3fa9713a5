// Domain XML for a VirtualMachine, built and read with a real XML library so that no name,
// path or value can inject elements. Pure: no I/O.
import { createHash } from 'node:crypto';
import type { LeaseRecord } from '../../leases/lease-clock.js';
import { writeXml, type XmlTree } from './xml-writer.js';
import { diskXml, extraNicXml, nicXml, type ExtraNic, type NicAttachment } from './device-xml.js';

export type { ExtraNic, NicAttachment } from './device-xml.js';
export { balloonTargetXml, LIVE_METADATA_KEY, LIVE_METADATA_NS } from './live-metadata.js';
export { parseDomainXml } from './domain-xml-reader.js';

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
  /** The IPv4 address claimed for the guest (a pool's or its fixed spec.network.ip): a lost state store does not hand it out again. */
  ip?: string;
  /** The identity of the controller that made the domain (absent on domains made before identities). */
  controller?: string;
  /** The guest was started at least once (what runStrategy Once and RerunOnFailure must remember). */
  startedOnce?: boolean;
  /** The last restart request handled (the wimaxvm.io/restartedAt annotation's value). */
  restartedAt?: string;
  /** The lease in force (spec.lease), so a lost state store does not start it again (src/leases/). */
  lease?: LeaseRecord;
  /**
   * Claimed by `wimaxvm adopt` (src/adoption/): the definition is the domain's own, not one
   * wimaxvm made, and specHash is the adopted spec's fingerprint (src/adoption/fingerprint.ts).
   */
  adopted?: boolean;
}


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
  /** What the guest gets (<currentMemory>, the balloon's target). */
  memoryKiB: number;
  /** What the balloon can give it at most (<memory>); memoryKiB when absent. */
  maxMemoryKiB?: number;
  /** vCPUs online at boot (<vcpu current>). */
  vcpus: number;
  /** vCPUs that can be plugged in at most (<vcpu>); vcpus when absent. */
  maxVcpus?: number;
  diskPaths: string[];
  mac: string;
  nic: NicAttachment;
  /** NICs after the first (spec.interfaces), in spec order. */
  extraNics?: ExtraNic[];
  owner: OwnerMetadata;
  /** Log the serial console to serialLogPath (see logsSerialConsole). */
  serialLog?: boolean;
  /** The cloud-init NoCloud seed image (src/seed/), attached as a read-only CD-ROM. */
  seedPath?: string;
}

/** The parts of a domain the controller manages; compared to find drift and needed restarts. */
export interface DomainFacts {
  /** The balloon's target (a live definition: the one wimaxvm set, else what the balloon reached). */
  memoryKiB: number;
  /** <memory>, when it is more than memoryKiB. */
  maxMemoryKiB?: number;
  vcpus: number;
  /** <vcpu>'s maximum, when it is more than vcpus. */
  maxVcpus?: number;
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

/**
 * The seed's read-only CD-ROM, on a virtio-scsi controller rather than SATA or IDE: that works on
 * both the i440fx machine libvirt picks here and q35, and cloud kernels have it (Debian's has no
 * AHCI driver). After the disks, so their vdX names do not move.
 */
const SEED_CONTROLLER = { '@type': 'scsi', '@index': '0', '@model': 'virtio-scsi' };
function seedCdrom(path: string): Record<string, unknown> {
  return {
    '@type': 'file', '@device': 'cdrom',
    driver: { '@name': 'qemu', '@type': 'raw' },
    source: { '@file': path },
    target: { '@dev': 'sda', '@bus': 'scsi' },
    readonly: '',
  };
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
  if (owner.ip !== undefined) attrs['@ip'] = owner.ip;
  if (owner.controller !== undefined) attrs['@controller'] = owner.controller;
  if (owner.startedOnce) attrs['@startedOnce'] = 'yes'; // not 'true': the builder would write a bare attribute
  if (owner.restartedAt !== undefined) attrs['@restartedAt'] = owner.restartedAt;
  if (owner.lease) {
    attrs['@leaseStartedAt'] = owner.lease.startedAt;
    attrs['@leaseExpiresAt'] = owner.lease.expiresAt;
    if (owner.lease.renewedAt !== undefined) attrs['@leaseRenewedAt'] = owner.lease.renewedAt;
  }
  if (owner.adopted) attrs['@adopted'] = 'yes';
  return attrs;
}

/**
 * The metadata element alone, for virDomainSetMetadata (key METADATA_PREFIX, namespace
 * METADATA_NS): libvirt puts the prefix and the namespace declaration on it.
 */
export function ownerElementXml(owner: OwnerMetadata): string {
  return writeXml({ vm: ownerAttributes(owner) }).trim();
}

/** The prefix wimaxvm's element gets in <metadata> (the key of virDomainSetMetadata). */
export const METADATA_KEY = METADATA_PREFIX;

export function buildDomainXml(def: DomainDefinition): string {
  return writeXml(domainTree(def));
}

/** The domain element as a tree for the XML writer (exported for the writer's test). */
export function domainTree(def: DomainDefinition): XmlTree {
  const maxVcpus = Math.max(def.maxVcpus ?? 0, def.vcpus);
  const owner: Record<string, unknown> = { [`@xmlns:${METADATA_PREFIX}`]: METADATA_NS, ...ownerAttributes(def.owner) };
  const domain = {
    domain: {
      '@type': def.type,
      name: def.name,
      uuid: def.uuid,
      metadata: { [`${METADATA_PREFIX}:vm`]: owner },
      // <memory> is the most the balloon can give; a guest boots with it and the balloon takes
      // back the rest. Without a declared maximum both are the same, as before maxima existed.
      memory: { '@unit': 'KiB', '#text': Math.max(def.maxMemoryKiB ?? 0, def.memoryKiB) },
      currentMemory: { '@unit': 'KiB', '#text': def.memoryKiB },
      vcpu: { '@placement': 'static', ...(maxVcpus > def.vcpus ? { '@current': def.vcpus } : {}), '#text': maxVcpus },
      os: { type: { '@arch': 'x86_64', '#text': 'hvm' }, boot: { '@dev': 'hd' } },
      features: { acpi: '' },
      on_poweroff: 'destroy',
      on_reboot: 'restart',
      // Kept in the crashed state so that RerunOnFailure can tell a crash from a clean stop.
      on_crash: 'preserve',
      devices: {
        disk: [...def.diskPaths.map((path, i) => diskXml(path, i)), ...(def.seedPath !== undefined ? [seedCdrom(def.seedPath)] : [])],
        ...(def.seedPath !== undefined ? { controller: SEED_CONTROLLER } : {}),
        interface: [nicXml(def.mac, def.nic), ...(def.extraNics ?? []).map(extraNicXml)],
        // A serial port (libvirt adds the console on it for `virsh console`), logged to a file
        // where the driver can. Not on the test driver, which has no guests to speak.
        ...(def.type === 'test' ? {} : { serial: { '@type': 'pty', ...(def.serialLog ? { log: { '@file': serialLogPath(def.name), '@append': 'on' } } : {}) } }),
        graphics: { '@type': 'vnc', '@port': '-1', '@autoport': 'yes', '@listen': '127.0.0.1' },
        // What live memory changes go through (libvirt adds one on x86 anyway: said, not assumed).
        memballoon: { '@model': 'virtio' },
      },
    },
  };
  return domain;
}

/** The facts a definition will produce once libvirt has it, for comparing with what it has. */
export function factsOf(def: DomainDefinition): DomainFacts {
  const nic = def.nic;
  const maxMemoryKiB = def.maxMemoryKiB ?? 0;
  const maxVcpus = def.maxVcpus ?? 0;
  return {
    memoryKiB: def.memoryKiB,
    ...(maxMemoryKiB > def.memoryKiB ? { maxMemoryKiB } : {}),
    vcpus: def.vcpus,
    ...(maxVcpus > def.vcpus ? { maxVcpus } : {}),
    diskPaths: def.diskPaths,
    nics: [{
      mac: def.mac.toLowerCase(),
      type: nic.type,
      ...(nic.type !== 'user' ? { source: nic.source } : {}),
      ...(nic.type === 'bridge' && nic.vlan !== undefined ? { vlan: nic.vlan } : {}),
      ...(nic.type === 'bridge' && nic.port !== undefined ? { port: nic.port } : {}),
    }, ...(def.extraNics ?? []).map((extra) => ({ mac: extra.mac.toLowerCase(), type: 'network', source: extra.network }))],
  };
}

type Nic = DomainFacts['nics'][number];
/** The same NIC; its VLAN compared too only when asked (the first NIC's is a field of its own). */
const sameNic = (x: Nic, y: Nic, vlan: boolean): boolean =>
  x.mac === y.mac && x.type === y.type && x.source === y.source && x.port === y.port && (!vlan || x.vlan === y.vlan);
const sameList = <T>(xs: readonly T[], ys: readonly T[], same: (x: T, y: T) => boolean): boolean =>
  xs.length === ys.length && xs.every((x, i) => same(x, ys[i]!));
/** NICs after the first in MAC order: hot-plugged ones sit in the live definition in plug order. */
const byMac = (nics: readonly Nic[]) => (nics.length > 1 ? [...nics].sort((x, y) => x.mac.localeCompare(y.mac)) : nics);

/** The most memory the balloon can give (facts leave it out when it is the current memory). */
export const maxMemoryOf = (facts: DomainFacts): number => Math.max(facts.maxMemoryKiB ?? 0, facts.memoryKiB);
export const maxVcpusOf = (facts: DomainFacts): number => Math.max(facts.maxVcpus ?? 0, facts.vcpus);

/**
 * The fields of `a` and `b` that differ, by name (empty when equal). The VLAN is its own field:
 * on a running guest it is changed through the switch, not by a restart.
 */
export function diffFacts(a: DomainFacts, b: DomainFacts): string[] {
  const out: string[] = [];
  if (a.memoryKiB !== b.memoryKiB) out.push('memory');
  // Without a declared maximum on either side the maximum follows the memory: one change, said once.
  if ((a.maxMemoryKiB ?? b.maxMemoryKiB) !== undefined && maxMemoryOf(a) !== maxMemoryOf(b)) out.push('maxMemory');
  if (a.vcpus !== b.vcpus) out.push('vcpus');
  if ((a.maxVcpus ?? b.maxVcpus) !== undefined && maxVcpusOf(a) !== maxVcpusOf(b)) out.push('maxVcpus');
  // Compared field by field, not as JSON: a reconcile asks several times, a resync for every VM.
  if (!sameList(a.diskPaths, b.diskPaths, (x, y) => x === y)) out.push('disks');
  const [firstA, firstB] = [a.nics.slice(0, 1), b.nics.slice(0, 1)];
  if (!sameList(firstA, firstB, (x, y) => sameNic(x, y, false))) out.push('network');
  if (!sameList(byMac(a.nics.slice(1)), byMac(b.nics.slice(1)), (x, y) => sameNic(x, y, true))) out.push('interfaces');
  // Only the first NIC (the slice's) is ever tagged.
  if (!sameList(firstA, firstB, (x, y) => x.vlan === y.vlan)) out.push('vlan');
  return out;
}
