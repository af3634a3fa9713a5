// The compiled addon (build/Release/wimaxvm_libvirt.node, built by `npm install` from
// native/libvirt/), its raw shapes, libvirt's enums as the headers name them, and LibvirtError.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../package-root.js';

type Raw<T = void> = Promise<T>;

export interface RawConnection {
  readonly uri: string;
  close(): Raw;
  isAlive(): Raw<boolean>;
  hostname(): Raw<string>;
  libVersion(): Raw<number>;
  nodeInfo(): Raw<{ model: string; memoryKiB: number; cpus: number; mhz: number; nodes: number; sockets: number; cores: number; threads: number }>;
  nodeFreeMemory(): Raw<number>;
  listAllDomains(flags: number): Raw<RawDomain[]>;
  listDomainNames(flags: number): Raw<string[]>;
  listActiveDomainIds(): Raw<number[]>;
  readAllDomains(): Raw<{ domains: RawSurveyedDomain[]; xmlReads: number; statesInOneCall: boolean }>;
  lookupDomainByName(name: string): Raw<RawDomain>;
  lookupDomainById(id: number): Raw<RawDomain>;
  lookupDomainByUuid(uuid: string): Raw<RawDomain>;
  defineDomain(xml: string): Raw<RawDomain>;
  createDomain(xml: string, flags: number): Raw<RawDomain>;
  listAllNetworks(flags: number): Raw<RawNetwork[]>;
  lookupNetworkByName(name: string): Raw<RawNetwork>;
  defineNetwork(xml: string): Raw<RawNetwork>;
  createNetwork(xml: string): Raw<RawNetwork>;
  lookupStoragePoolByTargetPath(path: string): Raw<RawStoragePool>;
  createStoragePool(xml: string, flags: number): Raw<RawStoragePool>;
  lookupStorageVolByPath(path: string): Raw<RawStorageVolume>;
  setEventSink(sink: ((e: RawEvent) => void) | undefined): void;
  enableDomainEvents(): Raw;
  disableDomainEvents(): Raw;
}

export interface RawSurveyedDomain { name: string; uuid: string; stateCode: number; reasonCode: number; persistentXml: string; liveXml?: string }

export type RawEvent =
  | { kind: 'lifecycle'; name: string; uuid: string; id: number; eventCode: number; detailCode: number }
  | { kind: 'reboot'; name: string; uuid: string; id: number }
  | { kind: 'device-removed'; name: string; uuid: string; id: number; alias: string }
  | { kind: 'metadata-change'; name: string; uuid: string; id: number; type: number; nsuri: string | null }
  | { kind: 'close'; reasonCode: number };

export interface RawDomain {
  readonly name: string;
  readonly uuid: string;
  getId(): Raw<number | undefined>;
  getState(): Raw<{ stateCode: number; reasonCode: number }>;
  getInfo(): Raw<{ stateCode: number; maxMemKiB: number; memoryKiB: number; vcpus: number; cpuTimeNs: number }>;
  getXmlDesc(flags: number): Raw<string>;
  isPersistent(): Raw<boolean>;
  isActive(): Raw<boolean>;
  hasManagedSave(): Raw<boolean>;
  create(flags: number): Raw;
  shutdown(flags: number): Raw;
  reboot(flags: number): Raw;
  destroy(flags: number): Raw;
  undefine(flags: number): Raw;
  suspend(): Raw;
  resume(): Raw;
  managedSave(flags: number): Raw;
  managedSaveRemove(flags: number): Raw;
  setMetadata(type: number, metadata: string | null, key: string | null, uri: string | null, flags: number): Raw;
  getMetadata(type: number, uri: string | null, flags: number): Raw<string | undefined>;
  setMemory(kib: number, flags: number): Raw;
  setVcpus(count: number, flags: number): Raw;
  attachDevice(xml: string, flags: number): Raw;
  detachDevice(xml: string, flags: number): Raw;
  detachDeviceAlias(alias: string, flags: number): Raw;
  updateDevice(xml: string, flags: number): Raw;
  interfaceStats(device: string): Raw<{ rxBytes: number; rxPackets: number; rxErrs: number; rxDrop: number; txBytes: number; txPackets: number; txErrs: number; txDrop: number }>;
  blockStats(device: string): Raw<{ rdReq: number; rdBytes: number; wrReq: number; wrBytes: number; errs: number }>;
  memoryStats(): Raw<[number, number][]>;
  getJobInfo(): Raw<{ type: number; timeElapsedMs: number; dataTotal: number; dataProcessed: number; dataRemaining: number; memTotal: number; memProcessed: number; memRemaining: number }>;
  abortJob(): Raw;
  migrateToUri3(dest: string, params: object, flags: number): Raw;
  openConsole(devName: string | null, flags: number): Raw<RawStream>;
}

export interface RawStream {
  /** The sink gets (chunk) per read, then once (null, undefined) at EOF or (null, error). */
  start(sink: (chunk: Buffer | null, err?: Error) => void): Raw;
  write(chunk: Buffer | string): Raw;
  close(): Raw;
}

export interface RawNetwork {
  readonly name: string;
  readonly uuid: string;
  isActive(): Raw<boolean>;
  getXmlDesc(flags: number): Raw<string>;
  create(): Raw;
  destroy(): Raw;
  undefine(): Raw;
  update(command: number, section: number, parentIndex: number, xml: string, flags: number): Raw;
  dhcpLeases(mac: string | null): Raw<{ iface: string; expiryTime: number; type: number; mac: string; ipaddr: string; prefix: number; hostname?: string; clientid?: string }[]>;
}

export interface RawStoragePool {
  readonly name: string;
  readonly uuid: string;
  refresh(): Raw;
  destroy(): Raw;
  getXmlDesc(flags: number): Raw<string>;
  createVolume(xml: string, flags: number): Raw<RawStorageVolume>;
}

export interface RawStorageVolume {
  readonly name: string;
  readonly path: string;
  getXmlDesc(): Raw<string>;
  delete(flags: number): Raw;
  transferTo(destination: RawStorageVolume, sparse: boolean): Raw<{ dataBytes: number; holeBytes: number }>;
}

interface Addon {
  openConnection(uri: string, readOnly: boolean, keepAliveIntervalS: number, keepAliveCount: number): Raw<RawConnection>;
  setCallObserver(fn: ((call: string) => void) | undefined): void;
  setErrorClass(cls: new (fields: LibvirtErrorFields) => Error): void;
  /** { enumName: { MEMBER: value } }, generated from the headers the addon was built against. */
  enums: Record<string, Record<string, number>>;
}

export const addon = createRequire(import.meta.url)(join(PACKAGE_ROOT, 'build', 'Release', 'wimaxvm_libvirt.node')) as Addon;

/** A member of one of libvirt's enums; a name the headers lack fails at load, not at use. */
export function enumValue(enumName: string, member: string): number {
  const v = addon.enums[enumName]?.[member];
  if (v === undefined) throw new Error(`wimaxvm_libvirt: libvirt's ${enumName} has no ${member}`);
  return v;
}

/** An enum's members that start with prefix, by value, named the contract's way: 'VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT' → 'from-snapshot'. */
export function enumNames(enumName: string, prefix: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const [member, value] of Object.entries(addon.enums[enumName] ?? {})) {
    if (member.startsWith(prefix) && !out.has(value)) out.set(value, member.slice(prefix.length).toLowerCase().replaceAll('_', '-'));
  }
  if (!out.size) throw new Error(`wimaxvm_libvirt: libvirt's ${enumName} has no ${prefix}* member`);
  return out;
}

interface LibvirtErrorFields { message: string; code: number; codeName: string; domain: number; domainName: string; level: number; call: string }

/** A failed libvirt call, with libvirt's own error number and where it came from. */
export class LibvirtError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly domain: number;
  readonly domainName: string;
  readonly level: number;
  /** the call that failed, e.g. 'virDomainCreate' ('closed' for a call on a closed connection) */
  readonly call: string;

  constructor(fields: LibvirtErrorFields) {
    super(fields.message);
    this.name = 'LibvirtError';
    this.code = fields.code;
    this.codeName = fields.codeName;
    this.domain = fields.domain;
    this.domainName = fields.domainName;
    this.level = fields.level;
    this.call = fields.call;
  }
}
addon.setErrorClass(LibvirtError);

type ErrorCodes = Record<'NO_DOMAIN' | 'NO_NETWORK' | 'OPERATION_INVALID' | 'OPERATION_FAILED' | 'OPERATION_TIMEOUT' | 'SYSTEM_ERROR' | 'NO_CONNECT' | 'INVALID_CONN' | 'INVALID_DOMAIN' | 'RPC' | 'INTERNAL_ERROR' | 'AUTH_FAILED' | 'NO_SUPPORT' | 'OPERATION_UNSUPPORTED' | 'AGENT_UNRESPONSIVE' | 'DOM_EXIST' | 'NO_DOMAIN_METADATA' | 'XML_ERROR' | 'CONFIG_UNSUPPORTED' | 'ARGUMENT_UNSUPPORTED' | 'INVALID_ARG' | 'MIGRATE_PERSIST_FAILED' | 'HOOK_SCRIPT_FAILED' | 'NO_STORAGE_POOL' | 'NO_STORAGE_VOL' | 'STORAGE_VOL_EXIST', number> & Readonly<Record<string, number>>;

/** libvirt's virErrorNumber without the VIR_ERR_ prefix: ErrorCode.NO_DOMAIN === 42. */
export const ErrorCode: ErrorCodes = Object.freeze(
  Object.fromEntries(Object.entries(addon.enums.virErrorNumber ?? {}).map(([k, v]) => [k.replace(/^VIR_ERR_/, ''), v])),
) as ErrorCodes;
