// A Domain over the addon's handle: options become libvirt's flag words, codes become names.
import { enumNames, enumValue, type RawDomain, type RawStream, type LibvirtError } from './native-addon.js';
import type { BlockStats, ConsoleStream, Domain, DomainState, DomainStateInfo, InterfaceStats, JobInfo, ModificationImpact } from './native.js';

const D = 'virDomain';
const STATES = enumNames(`${D}State`, 'VIR_DOMAIN_') as Map<number, DomainState>;
/** Per state, the enum of its reasons (virDomainShutoffReason for shutoff...). */
const REASONS = new Map<number, Map<number, string>>(
  [...STATES].map(([code, state]) => {
    const enumName = state === 'pmsuspended' ? 'virDomainPMSuspendedReason' : `${D}${state[0]!.toUpperCase()}${state.slice(1)}Reason`;
    return [code, enumNames(enumName, `VIR_DOMAIN_${state.toUpperCase()}_`)];
  }),
);
const METADATA_ELEMENT = enumValue(`${D}MetadataType`, 'VIR_DOMAIN_METADATA_ELEMENT');
const METADATA_DESCRIPTION = enumValue(`${D}MetadataType`, 'VIR_DOMAIN_METADATA_DESCRIPTION');
/** virsh's names for the memory statistics ('actual' is the balloon). */
const MEMORY_STATS = new Map([...enumNames(`${D}MemoryStatTags`, 'VIR_DOMAIN_MEMORY_STAT_')].map(([v, n]) => [v, n === 'actual-balloon' ? 'actual' : n.replaceAll('-', '_')]));

export function stateName(code: number): DomainState {
  return STATES.get(code) ?? (String(code) as DomainState);
}

export function stateInfo(stateCode: number, reasonCode: number): DomainStateInfo {
  return { state: stateName(stateCode), reason: REASONS.get(stateCode)?.get(reasonCode) ?? String(reasonCode), stateCode, reasonCode };
}

/** Builds a flag word from options: flags({ live: true }, { live: 'VIR_DOMAIN_AFFECT_LIVE' }, 'virDomainModificationImpact'). */
function flags(opts: object | undefined, names: Record<string, string>, enumName: string): number {
  let word = 0;
  for (const [opt, member] of Object.entries(names)) if ((opts as Record<string, unknown> | undefined)?.[opt]) word |= enumValue(enumName, member);
  return word;
}

const impact = (opts?: ModificationImpact): number => flags(opts, { live: 'VIR_DOMAIN_AFFECT_LIVE', config: 'VIR_DOMAIN_AFFECT_CONFIG' }, `${D}ModificationImpact`);
// Checked at load: every flag name below exists in the headers the addon was built against.
const FLAGS = {
  xml: [{ inactive: 'VIR_DOMAIN_XML_INACTIVE', secure: 'VIR_DOMAIN_XML_SECURE', migratable: 'VIR_DOMAIN_XML_MIGRATABLE' }, `${D}XMLFlags`],
  create: [{ paused: 'VIR_DOMAIN_START_PAUSED', forceBoot: 'VIR_DOMAIN_START_FORCE_BOOT' }, `${D}CreateFlags`],
  destroy: [{ graceful: 'VIR_DOMAIN_DESTROY_GRACEFUL' }, `${D}DestroyFlagsValues`],
  undefine: [{ managedSave: 'VIR_DOMAIN_UNDEFINE_MANAGED_SAVE', snapshotsMetadata: 'VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA', nvram: 'VIR_DOMAIN_UNDEFINE_NVRAM', checkpointsMetadata: 'VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA' }, `${D}UndefineFlagsValues`],
  save: [{ running: 'VIR_DOMAIN_SAVE_RUNNING', paused: 'VIR_DOMAIN_SAVE_PAUSED' }, `${D}SaveRestoreFlags`],
  memory: [{ maximum: 'VIR_DOMAIN_MEM_MAXIMUM' }, `${D}MemoryModFlags`],
  vcpus: [{ maximum: 'VIR_DOMAIN_VCPU_MAXIMUM', guest: 'VIR_DOMAIN_VCPU_GUEST', hotpluggable: 'VIR_DOMAIN_VCPU_HOTPLUGGABLE' }, `${D}VcpuFlags`],
  console: [{ force: 'VIR_DOMAIN_CONSOLE_FORCE', safe: 'VIR_DOMAIN_CONSOLE_SAFE' }, `${D}ConsoleFlags`],
  migrate: [{ live: 'VIR_MIGRATE_LIVE', peer2peer: 'VIR_MIGRATE_PEER2PEER', persistDest: 'VIR_MIGRATE_PERSIST_DEST', undefineSource: 'VIR_MIGRATE_UNDEFINE_SOURCE', nonSharedDisk: 'VIR_MIGRATE_NON_SHARED_DISK', nonSharedInc: 'VIR_MIGRATE_NON_SHARED_INC', tunnelled: 'VIR_MIGRATE_TUNNELLED', offline: 'VIR_MIGRATE_OFFLINE', unsafe: 'VIR_MIGRATE_UNSAFE', autoConverge: 'VIR_MIGRATE_AUTO_CONVERGE' }, `${D}MigrateFlags`],
} as const satisfies Record<string, readonly [Record<string, string>, string]>;
for (const [names, enumName] of Object.values(FLAGS)) for (const member of Object.values(names)) enumValue(enumName, member);
const flagsOf = (kind: keyof typeof FLAGS, opts: object | undefined): number => flags(opts, FLAGS[kind][0], FLAGS[kind][1]);

export class DomainHandle implements Domain {
  readonly name: string;
  readonly uuid: string;

  constructor(private readonly raw: RawDomain) {
    this.name = raw.name;
    this.uuid = raw.uuid;
  }

  getId(): Promise<number | undefined> { return this.raw.getId(); }
  async getState(): Promise<DomainStateInfo> {
    const { stateCode, reasonCode } = await this.raw.getState();
    return stateInfo(stateCode, reasonCode);
  }
  async getInfo(): Promise<{ state: DomainState; maxMemKiB: number; memoryKiB: number; vcpus: number; cpuTimeNs: number }> {
    const { stateCode, ...rest } = await this.raw.getInfo();
    return { state: stateName(stateCode), ...rest };
  }
  getXmlDesc(opts?: { inactive?: boolean; secure?: boolean; migratable?: boolean }): Promise<string> { return this.raw.getXmlDesc(flagsOf('xml', opts)); }
  isPersistent(): Promise<boolean> { return this.raw.isPersistent(); }
  /** Added to the contract: virDomainIsActive. */
  isActive(): Promise<boolean> { return this.raw.isActive(); }
  hasManagedSave(): Promise<boolean> { return this.raw.hasManagedSave(); }
  create(opts?: { paused?: boolean; forceBoot?: boolean }): Promise<void> { return this.raw.create(flagsOf('create', opts)); }
  shutdown(): Promise<void> { return this.raw.shutdown(0); }
  reboot(): Promise<void> { return this.raw.reboot(0); }
  destroy(opts?: { graceful?: boolean }): Promise<void> { return this.raw.destroy(flagsOf('destroy', opts)); }
  undefine(opts?: { managedSave?: boolean; snapshotsMetadata?: boolean; nvram?: boolean; checkpointsMetadata?: boolean }): Promise<void> { return this.raw.undefine(flagsOf('undefine', opts)); }
  suspend(): Promise<void> { return this.raw.suspend(); }
  resume(): Promise<void> { return this.raw.resume(); }
  managedSave(opts?: { running?: boolean; paused?: boolean }): Promise<void> { return this.raw.managedSave(flagsOf('save', opts)); }
  managedSaveRemove(): Promise<void> { return this.raw.managedSaveRemove(0); }
  setMetadataElement(uri: string, key: string, xml: string | null, opts?: ModificationImpact): Promise<void> {
    return this.raw.setMetadata(METADATA_ELEMENT, xml, xml === null ? null : key, uri, impact(opts));
  }
  getMetadataElement(uri: string, opts?: ModificationImpact): Promise<string | undefined> { return this.raw.getMetadata(METADATA_ELEMENT, uri, impact(opts)); }
  setDescription(text: string | null, opts?: ModificationImpact): Promise<void> { return this.raw.setMetadata(METADATA_DESCRIPTION, text, null, null, impact(opts)); }
  /** Added to the contract: the description, undefined when there is none. */
  getDescription(opts?: ModificationImpact): Promise<string | undefined> { return this.raw.getMetadata(METADATA_DESCRIPTION, null, impact(opts)); }
  setMemory(kib: number, opts?: ModificationImpact & { maximum?: boolean }): Promise<void> { return this.raw.setMemory(kib, impact(opts) | flagsOf('memory', opts)); }
  setVcpus(count: number, opts?: ModificationImpact & { maximum?: boolean; guest?: boolean; hotpluggable?: boolean }): Promise<void> {
    return this.raw.setVcpus(count, impact(opts) | flagsOf('vcpus', opts));
  }
  attachDevice(xml: string, opts?: ModificationImpact): Promise<void> { return this.raw.attachDevice(xml, impact(opts)); }
  detachDevice(xml: string, opts?: ModificationImpact): Promise<void> { return this.raw.detachDevice(xml, impact(opts)); }
  detachDeviceAlias(alias: string, opts?: ModificationImpact): Promise<void> { return this.raw.detachDeviceAlias(alias, impact(opts)); }
  updateDevice(xml: string, opts?: ModificationImpact): Promise<void> { return this.raw.updateDevice(xml, impact(opts)); }
  interfaceStats(device: string): Promise<InterfaceStats> { return this.raw.interfaceStats(device); }
  blockStats(device: string): Promise<BlockStats> { return this.raw.blockStats(device); }
  async memoryStats(): Promise<Record<string, number>> {
    return Object.fromEntries((await this.raw.memoryStats()).map(([tag, value]) => [MEMORY_STATS.get(tag) ?? String(tag), value]));
  }
  migrateToUri3(destConnUri: string, params: { migrateUri?: string; destName?: string; destXml?: string; persistentXml?: string; bandwidthMiBs?: number; listenAddress?: string },
    opts?: { live?: boolean; peer2peer?: boolean; persistDest?: boolean; undefineSource?: boolean; nonSharedDisk?: boolean; nonSharedInc?: boolean; tunnelled?: boolean; offline?: boolean; unsafe?: boolean; autoConverge?: boolean }): Promise<void> {
    return this.raw.migrateToUri3(destConnUri, params, flagsOf('migrate', opts));
  }
  getJobInfo(): Promise<JobInfo> { return this.raw.getJobInfo(); }
  abortJob(): Promise<void> { return this.raw.abortJob(); }
  async openConsole(devName?: string, opts?: { force?: boolean; safe?: boolean }): Promise<ConsoleStream> {
    const console = new Console(await this.raw.openConsole(devName ?? null, flagsOf('console', opts)));
    await console.start();
    return console;
  }
}

/** What arrives before the first listener is kept for it: nothing read is lost. */
class Console implements ConsoleStream {
  private readonly dataListeners: ((chunk: Buffer) => void)[] = [];
  private readonly endListeners: ((err?: LibvirtError) => void)[] = [];
  private readonly pending: Buffer[] = [];
  private ended: { err?: LibvirtError } | undefined;

  constructor(private readonly raw: RawStream) {}

  start(): Promise<void> {
    return this.raw.start((chunk, err) => {
      if (chunk) {
        if (this.dataListeners.length) for (const l of this.dataListeners) l(chunk);
        else this.pending.push(chunk);
      } else {
        this.end(err as LibvirtError | undefined);
      }
    });
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
    for (const chunk of this.pending.splice(0)) listener(chunk);
  }

  onEnd(listener: (err?: LibvirtError) => void): void {
    if (this.ended) listener(this.ended.err);
    else this.endListeners.push(listener);
  }

  write(chunk: Buffer | string): Promise<void> { return this.raw.write(chunk); }

  async close(): Promise<void> {
    await this.raw.close();
    this.end(undefined);
  }

  private end(err: LibvirtError | undefined): void {
    if (this.ended) return;
    this.ended = { err };
    for (const l of this.endListeners.splice(0)) l(err);
  }
}
