// In-memory Hypervisor for reconciler tests: domains by name, libvirt's rules on define/start/
// undefine, every mutating call recorded, failures injectable, drift simulated by helpers. Each
// change, ours or one made "by hand", emits the event libvirt would (lifecycle with its detail).
import { maxMemoryOf, maxVcpusOf, parseDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { assertPermit, type DeletionPermit } from '../../src/core/deletion-gate.js';
import {
  HypervisorInvalidOperationError,
  HypervisorNotFoundError,
  HypervisorUnavailableError,
  type BlockStatistics,
  type DhcpHost,
  type DomainActivity,
  type DomainSnapshot,
  type DomainView,
  type DomainState,
  type DomainStateInfo,
  type Hypervisor,
  type HypervisorEvent,
  type Impact,
  type InterfaceStatistics,
  type LifecycleEvent,
  type NetworkInfo,
  type NodeFigures,
} from '../../src/ports/hypervisor.js';

export type FakeHypervisorOp =
  | 'define' | 'start' | 'shutdown' | 'destroy' | 'undefine' | 'suspend' | 'resume'
  | 'setMetadata' | 'setMemory' | 'setVcpus' | 'attachDevice' | 'detachDevice' | 'managedSave' | 'removeManagedSave' | 'updateDhcpHost';

export interface FakeHypervisorCall {
  op: FakeHypervisorOp;
  name: string;
}

interface FakeDomain {
  name: string;
  uuid: string;
  state: DomainState;
  reason: string;
  id?: number;
  persistentXml: string;
  liveXml?: string;
  /** Metadata elements set with setMetadata, by namespace URI. */
  metadata: Map<string, string>;
  memoryKiB?: number;
  vcpus?: number;
  /** The vCPUs the guest was started with (QEMU cannot unplug those). */
  bootVcpus?: number;
  devices: string[];
  managedSave: boolean;
}

interface FakeNetwork {
  name: string;
  uuid: string;
  active: boolean;
  hosts: DhcpHost[];
}

export interface FakeHypervisorOptions {
  uri?: string;
  domainType?: 'kvm' | 'qemu' | 'test';
  /** Shared with other fakes to check the order of calls across them ("hv:define vm1"). */
  journal?: string[];
}

const ACTIVE: ReadonlySet<DomainState> = new Set(['running', 'blocked', 'paused', 'shutdown', 'pmsuspended', 'crashed']);

export class FakeHypervisor implements Hypervisor {
  readonly uri: string;
  /** Every mutating call, in order, including the ones that failed. */
  readonly calls: FakeHypervisorCall[] = [];
  /** Names of guests that ignore ACPI shutdown requests (they stay running). */
  readonly ignoreShutdown = new Set<string>();
  /** While true every call throws HypervisorUnavailableError, as when libvirtd is gone. */
  unavailable = false;
  /** False: a driver without domain events (the controller must poll). */
  deliversEvents = true;
  /** Every event emitted, in order. */
  readonly events: HypervisorEvent[] = [];
  node: NodeFigures = { memoryKiB: 16 * 1024 * 1024, freeMemoryBytes: 8 * 1024 ** 3, cpus: 8 };
  /** Counters interfaceStats/blockStats answer, by "domain device". */
  readonly interfaceCounters = new Map<string, InterfaceStatistics>();
  readonly blockCounters = new Map<string, BlockStatistics>();

  private readonly listeners = new Set<(event: HypervisorEvent) => void>();
  private readonly networks = new Map<string, FakeNetwork>();

  private readonly domains = new Map<string, FakeDomain>();
  private readonly failures = new Map<FakeHypervisorOp | 'getDomain', Error[]>();
  private nextId = 1;
  private readonly type: 'kvm' | 'qemu' | 'test';
  private readonly journal: string[] | undefined;

  constructor(opts: FakeHypervisorOptions = {}) {
    this.uri = opts.uri ?? 'fake:///system';
    this.type = opts.domainType ?? 'test';
    this.journal = opts.journal;
  }

  // ---- test controls ----

  /** The next `times` calls of `op` throw `error` (after being recorded). */
  failNext(op: FakeHypervisorOp | 'getDomain', error: Error, times = 1): void {
    const queue = this.failures.get(op) ?? [];
    for (let i = 0; i < times; i++) queue.push(error);
    this.failures.set(op, queue);
  }

  /** Mutating calls as "op name" strings, for compact assertions. */
  ops(name?: string): string[] {
    return this.calls.filter((c) => name === undefined || c.name === name).map((c) => c.op);
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  /** The domain as stored, for assertions (not a copy). */
  peek(name: string): Readonly<FakeDomain> | undefined {
    return this.domains.get(name);
  }

  /** The guest crashed (on_crash=preserve keeps it in the crashed state). */
  crash(name: string): void {
    const d = this.must(name);
    if (!ACTIVE.has(d.state)) throw new Error(`fake: cannot crash inactive domain ${name}`);
    d.state = 'crashed';
    d.reason = 'panicked';
    this.lifecycle(name, 'crashed', 'panicked');
  }

  /**
   * Someone ran `virsh destroy` (reason 'destroyed', the default), the guest powered itself off
   * ('shutdown'), or its QEMU died ('crashed', 'failed').
   */
  stopBehindBack(name: string, reason: 'destroyed' | 'shutdown' | 'crashed' | 'failed' = 'destroyed'): void {
    this.powerOff(this.must(name), reason);
  }

  /** Someone ran `virsh destroy` and `virsh undefine`: the domain is gone. */
  undefineBehindBack(name: string): void {
    const d = this.must(name);
    if (ACTIVE.has(d.state)) this.powerOff(d, 'destroyed');
    this.domains.delete(name);
    this.lifecycle(name, 'undefined', 'removed');
  }

  /** Someone ran `virsh reboot`, or the guest rebooted itself. */
  rebootBehindBack(name: string): void {
    this.must(name);
    this.emit({ kind: 'reboot', domain: name });
  }

  /** libvirtd went away: calls fail until `restore()`, subscribers hear that the connection closed. */
  loseConnection(reason = 'eof'): void {
    this.unavailable = true;
    this.emit({ kind: 'connection-closed', reason });
  }

  restore(): void {
    this.unavailable = false;
  }

  /** A libvirt network (for getNetwork and updateDhcpHost). */
  addNetwork(name: string, active = true): void {
    this.networks.set(name, { name, uuid: `00000000-0000-4000-8000-${String(this.networks.size + 1).padStart(12, '0')}`, active, hosts: [] });
  }

  dhcpHosts(network: string): DhcpHost[] {
    return [...(this.networks.get(network)?.hosts ?? [])];
  }

  /** Someone ran `virsh edit`: the persistent definition changes, the live one does not. */
  editXml(name: string, edit: (xml: string) => string): void {
    const d = this.must(name);
    const xml = edit(d.persistentXml);
    const parsed = parseDomainXml(xml);
    if (parsed.name !== name || parsed.uuid !== d.uuid) throw new Error('fake: editXml may not change the name or uuid');
    d.persistentXml = xml;
    this.lifecycle(name, 'defined', 'updated');
  }

  /** A domain defined outside the reconciler (a foreign one, or a guest started by hand). */
  defineBehindBack(xml: string): void {
    this.doDefine(xml);
  }

  startBehindBack(name: string): void {
    this.doStart(this.must(name));
  }

  // ---- events ----

  subscribe(listener: (event: HypervisorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  eventsDelivered(): boolean {
    return this.deliversEvents && !this.unavailable;
  }

  // ---- Hypervisor ----

  domainType(): 'kvm' | 'qemu' | 'test' {
    return this.type;
  }

  /** Always answers from the domains themselves, so `fresh` changes nothing here. */
  async getDomain(name: string, _fresh?: boolean): Promise<DomainSnapshot | undefined> {
    this.checkAvailable();
    this.injected('getDomain');
    const d = this.domains.get(name);
    return d ? this.snapshot(d) : undefined;
  }

  /** getDomain without the persistent XML; failures injected for getDomain apply to it too (both are a look at the domain). */
  async getDomainView(name: string): Promise<DomainView | undefined> {
    const snapshot = await this.getDomain(name);
    if (!snapshot) return undefined;
    const { persistentXml: _, ...view } = snapshot;
    return view;
  }

  async domainState(name: string): Promise<DomainStateInfo | undefined> {
    this.checkAvailable();
    const d = this.domains.get(name);
    return d && { state: d.state, reason: d.reason };
  }

  async listDomains(): Promise<DomainSnapshot[]> {
    this.checkAvailable();
    return [...this.domains.values()].map((d) => this.snapshot(d));
  }

  async activity(): Promise<DomainActivity> {
    this.checkAvailable();
    const inactive: string[] = [];
    const activeIds: number[] = [];
    for (const d of this.domains.values()) {
      if (ACTIVE.has(d.state)) activeIds.push(d.id!);
      else inactive.push(d.name);
    }
    return { inactive, activeIds };
  }

  async nameOfActiveDomain(id: number): Promise<string | undefined> {
    this.checkAvailable();
    for (const d of this.domains.values()) if (ACTIVE.has(d.state) && d.id === id) return d.name;
    return undefined;
  }

  async define(xml: string): Promise<void> {
    let name: string;
    try {
      name = parseDomainXml(xml).name;
    } catch {
      name = '?';
    }
    this.record('define', name);
    this.doDefine(xml);
  }

  async start(name: string): Promise<void> {
    this.record('start', name);
    const d = this.must(name);
    if (ACTIVE.has(d.state)) throw new HypervisorInvalidOperationError('Requested operation is not valid: domain is already running');
    this.doStart(d);
  }

  async shutdown(name: string): Promise<void> {
    this.record('shutdown', name);
    const d = this.must(name);
    if (!ACTIVE.has(d.state)) throw new HypervisorInvalidOperationError('Requested operation is not valid: domain is not running');
    if (this.ignoreShutdown.has(name)) return; // the guest ignores ACPI
    this.powerOff(d, 'shutdown');
  }

  async destroy(name: string): Promise<void> {
    this.record('destroy', name);
    const d = this.must(name);
    if (!ACTIVE.has(d.state)) throw new HypervisorInvalidOperationError('Requested operation is not valid: domain is not running');
    this.powerOff(d, 'destroyed');
  }

  async undefine(name: string, permit: DeletionPermit): Promise<void> {
    assertPermit(permit, name, { hostUri: this.uri });
    this.record('undefine', name);
    const d = this.must(name);
    if (ACTIVE.has(d.state)) throw new HypervisorInvalidOperationError(`Requested operation is not valid: cannot undefine active domain '${name}'`);
    this.domains.delete(name);
    this.lifecycle(name, 'undefined', 'removed');
  }

  async suspend(name: string): Promise<void> {
    this.record('suspend', name);
    const d = this.must(name);
    if (d.state !== 'running') throw new HypervisorInvalidOperationError('Requested operation is not valid: domain is not running');
    d.state = 'paused';
    d.reason = 'user';
    this.lifecycle(name, 'suspended', 'paused');
  }

  async resume(name: string): Promise<void> {
    this.record('resume', name);
    const d = this.must(name);
    if (d.state !== 'paused') throw new HypervisorInvalidOperationError('Requested operation is not valid: domain is not paused');
    d.state = 'running';
    d.reason = 'unpaused';
    this.lifecycle(name, 'resumed', 'unpaused');
  }

  /** Kept by namespace for getMetadata and, as libvirt does, written into the XML the impact names. */
  async setMetadata(name: string, uri: string, key: string, xml: string | null, impact?: Impact): Promise<void> {
    this.record('setMetadata', name);
    const d = this.must(name);
    const { live, config } = this.impactOn(d, impact);
    if (xml === null) d.metadata.delete(uri);
    else d.metadata.set(uri, xml);
    const edit = (domainXml: string) => withMetadataElement(domainXml, uri, key, xml);
    if (live) d.liveXml = edit(d.liveXml!);
    if (config) d.persistentXml = edit(d.persistentXml);
  }

  async getMetadata(name: string, uri: string): Promise<string | undefined> {
    this.checkAvailable();
    return this.must(name).metadata.get(uri);
  }

  /** As libvirt: within <memory>, on the running guest (whose balloon follows at once here) and/or the definition. */
  async setMemory(name: string, kib: number, impact?: Impact): Promise<void> {
    this.record('setMemory', name);
    const d = this.must(name);
    const { live, config } = this.impactOn(d, impact);
    for (const [on, xml] of [[live, d.liveXml], [config, d.persistentXml]] as const) {
      if (on && kib > maxMemoryOf(parseDomainXml(xml!).facts)) throw new Error('invalid argument: cannot set memory higher than max memory');
    }
    const edit = (xml: string) => xml.replace(/(<currentMemory\b[^>]*>)\d+(<\/currentMemory>)/, `$1${kib}$2`);
    if (live) {
      d.liveXml = edit(d.liveXml!);
      d.memoryKiB = kib;
    }
    if (config) d.persistentXml = edit(d.persistentXml);
  }

  /** As libvirt: within <vcpu>'s maximum, at least one. */
  async setVcpus(name: string, count: number, impact?: Impact): Promise<void> {
    this.record('setVcpus', name);
    const d = this.must(name);
    const { live, config } = this.impactOn(d, impact);
    for (const [which, on, xml] of [['live', live, d.liveXml], ['persistent', config, d.persistentXml]] as const) {
      if (!on) continue;
      const max = maxVcpusOf(parseDomainXml(xml!).facts);
      if (count < 1 || count > max) throw new Error(`invalid argument: requested vcpus is greater than max allowable vcpus for the ${which} domain: ${count} > ${max}`);
    }
    // QEMU's driver unplugs only vCPUs that were plugged in: those the guest booted with stay.
    if (live && count < d.bootVcpus!) throw new Error('unsupported configuration: failed to find appropriate hotpluggable vcpus to reach the desired target vcpu count');
    const edit = (xml: string) => xml.replace(/<vcpu\b([^>]*)>(\d+)<\/vcpu>/, (_m, attrs: string, max: string) =>
      `<vcpu${attrs.replace(/\s+current=["']\d+["']/, '')}${Number(max) > count ? ` current="${count}"` : ''}>${max}</vcpu>`);
    if (live) {
      d.liveXml = edit(d.liveXml!);
      d.vcpus = count;
    }
    if (config) d.persistentXml = edit(d.persistentXml);
  }

  /** A disk or an interface, into <devices>; a disk's target must be free, as libvirt demands. */
  async attachDevice(name: string, xml: string, impact?: Impact): Promise<void> {
    this.record('attachDevice', name);
    const d = this.must(name);
    const { live, config } = this.impactOn(d, impact);
    const target = diskTargetOf(xml);
    for (const [on, domainXml] of [[live, d.liveXml], [config, d.persistentXml]] as const) {
      if (on && target !== undefined && findDevice(domainXml!, xml) !== undefined) throw new Error(`operation failed: target ${target} already exists`);
    }
    const add = (domainXml: string) => domainXml.replace('</devices>', `${xml.trim()}\n</devices>`);
    if (live) {
      d.liveXml = add(d.liveXml!);
      d.devices.push(xml);
    }
    if (config) d.persistentXml = add(d.persistentXml);
  }

  /** Finds the device as libvirt does (a disk by its target, an interface by its MAC) and removes it. */
  async detachDevice(name: string, xml: string, impact?: Impact): Promise<void> {
    this.record('detachDevice', name);
    const d = this.must(name);
    const { live, config } = this.impactOn(d, impact);
    for (const [on, domainXml] of [[live, d.liveXml], [config, d.persistentXml]] as const) {
      if (on && findDevice(domainXml!, xml) === undefined) throw new Error(`device not found: no device matching ${diskTargetOf(xml) ?? macOf(xml) ?? 'the given XML'}`);
    }
    const remove = (domainXml: string) => domainXml.replace(findDevice(domainXml, xml)!, '');
    if (live) {
      d.liveXml = remove(d.liveXml!);
      const at = d.devices.indexOf(xml);
      if (at >= 0) d.devices.splice(at, 1);
    }
    if (config) d.persistentXml = remove(d.persistentXml);
    const alias = /<alias name=['"]([^'"]+)['"]/.exec(xml)?.[1];
    if (alias && live) this.emit({ kind: 'device-removed', domain: name, alias });
  }

  async managedSave(name: string): Promise<void> {
    this.record('managedSave', name);
    const d = this.must(name);
    if (!ACTIVE.has(d.state)) throw new HypervisorInvalidOperationError('Requested operation is not valid: domain is not running');
    this.powerOff(d, 'saved');
    d.managedSave = true;
  }

  async hasManagedSave(name: string): Promise<boolean> {
    this.checkAvailable();
    return this.must(name).managedSave;
  }

  async removeManagedSave(name: string): Promise<void> {
    this.record('removeManagedSave', name);
    this.must(name).managedSave = false;
  }

  async interfaceStats(name: string, device: string): Promise<InterfaceStatistics> {
    this.checkAvailable();
    this.mustRun(name);
    return this.interfaceCounters.get(`${name} ${device}`) ?? { rxBytes: 0, rxPackets: 0, rxErrors: 0, rxDropped: 0, txBytes: 0, txPackets: 0, txErrors: 0, txDropped: 0 };
  }

  async blockStats(name: string, device: string): Promise<BlockStatistics> {
    this.checkAvailable();
    this.mustRun(name);
    return this.blockCounters.get(`${name} ${device}`) ?? { readRequests: 0, readBytes: 0, writeRequests: 0, writeBytes: 0, errors: 0 };
  }

  async nodeFigures(): Promise<NodeFigures> {
    this.checkAvailable();
    return { ...this.node };
  }

  async getNetwork(name: string): Promise<NetworkInfo | undefined> {
    this.checkAvailable();
    const n = this.networks.get(name);
    if (!n) return undefined;
    const hosts = n.hosts.map((h) => `<host mac='${h.mac}'${h.name ? ` name='${h.name}'` : ''} ip='${h.ip}'/>`).join('');
    return { name, uuid: n.uuid, active: n.active, xml: `<network><name>${name}</name><uuid>${n.uuid}</uuid><ip address='192.168.122.1' prefix='24'><dhcp>${hosts}</dhcp></ip></network>` };
  }

  async updateDhcpHost(network: string, change: 'add' | 'modify' | 'delete', host: DhcpHost): Promise<void> {
    this.record('updateDhcpHost', network);
    const n = this.networks.get(network);
    if (!n) throw new HypervisorNotFoundError(`Network not found: no network with matching name '${network}'`);
    const at = n.hosts.findIndex((h) => h.mac === host.mac);
    if (change === 'add') {
      if (at >= 0) throw new HypervisorInvalidOperationError(`there is an existing dhcp host entry in network '${network}' that matches "${host.mac}"`);
      n.hosts.push(host);
    } else {
      if (at < 0) throw new HypervisorInvalidOperationError(`couldn't locate a matching dhcp host entry in network '${network}'`);
      if (change === 'modify') n.hosts[at] = host;
      else n.hosts.splice(at, 1);
    }
  }

  // ---- internals ----

  private record(op: FakeHypervisorOp, name: string): void {
    this.calls.push({ op, name });
    this.journal?.push(`hv:${op} ${name}`);
    this.checkAvailable();
    this.injected(op);
  }

  private checkAvailable(): void {
    if (this.unavailable) throw new HypervisorUnavailableError(`not connected to ${this.uri}`);
  }

  private injected(op: FakeHypervisorOp | 'getDomain'): void {
    const error = this.failures.get(op)?.shift();
    if (error) throw error;
  }

  private must(name: string): FakeDomain {
    const d = this.domains.get(name);
    if (!d) throw new HypervisorNotFoundError(`Domain not found: no domain with matching name '${name}'`);
    return d;
  }

  /** libvirt's reading of an impact: neither flag is the domain's current one; live on an inactive domain is refused. */
  private impactOn(d: FakeDomain, impact: Impact | undefined): { live: boolean; config: boolean } {
    const active = ACTIVE.has(d.state);
    if (!impact?.live && !impact?.config) return { live: active, config: !active };
    if (impact.live && !active) throw new HypervisorInvalidOperationError('Requested operation is not valid: domain is not running');
    return { live: impact.live === true, config: impact.config === true };
  }

  private mustRun(name: string): FakeDomain {
    const d = this.must(name);
    if (!ACTIVE.has(d.state)) throw new HypervisorInvalidOperationError('Requested operation is not valid: domain is not running');
    return d;
  }

  private lifecycle(domain: string, event: LifecycleEvent, detail: string): void {
    this.emit({ kind: 'lifecycle', domain, event, detail });
  }

  /** Delivered on a later turn, as libvirt's event loop does (never inside the call that caused it). */
  private emit(event: HypervisorEvent): void {
    if (!this.deliversEvents && event.kind !== 'connection-closed') return;
    this.events.push(event);
    const listeners = [...this.listeners];
    queueMicrotask(() => { for (const l of listeners) l(event); });
  }

  private doDefine(xml: string): void {
    const { name, uuid } = parseDomainXml(xml);
    if (!name || !uuid) throw new Error('fake: domain XML without name or uuid');
    const existing = this.domains.get(name);
    if (existing && existing.uuid !== uuid) {
      throw new Error(`operation failed: domain '${name}' already exists with uuid ${existing.uuid}`);
    }
    for (const other of this.domains.values()) {
      if (other.name !== name && other.uuid === uuid) {
        throw new Error(`operation failed: domain '${other.name}' is already defined with uuid ${uuid}`);
      }
    }
    if (existing) existing.persistentXml = xml;
    else this.domains.set(name, { name, uuid, state: 'shutoff', reason: 'unknown', persistentXml: xml, metadata: new Map(), devices: [], managedSave: false });
    this.lifecycle(name, 'defined', existing ? 'updated' : 'added');
  }

  private doStart(d: FakeDomain): void {
    const restored = d.managedSave;
    d.managedSave = false;
    d.state = 'running';
    d.reason = restored ? 'restored' : 'booted';
    this.lifecycle(d.name, 'started', d.reason);
    d.id = this.nextId++;
    // As libvirt does for autoport graphics: the live XML carries the port actually given.
    d.liveXml = d.persistentXml.replace(/(<graphics\b[^>]*\bport=")-1(")/, `$1${5900 + d.id}$2`);
    d.bootVcpus = parseDomainXml(d.persistentXml).facts.vcpus;
  }

  private powerOff(d: FakeDomain, reason: string): void {
    d.state = 'shutoff';
    d.reason = reason;
    delete d.id;
    delete d.liveXml;
    if (reason === 'shutdown') this.lifecycle(d.name, 'shutdown', 'finished');
    this.lifecycle(d.name, 'stopped', reason);
  }

  private snapshot(d: FakeDomain): DomainSnapshot {
    const active = ACTIVE.has(d.state);
    return {
      name: d.name,
      uuid: d.uuid,
      state: d.state,
      reason: d.reason,
      persistentXml: d.persistentXml,
      ...(active && d.id !== undefined ? { id: d.id } : {}),
      ...(active && d.liveXml !== undefined ? { liveXml: d.liveXml } : {}),
    };
  }
}

const diskTargetOf = (xml: string): string | undefined => /^\s*<disk\b/.test(xml) ? /<target\b[^>]*\bdev=["']([^"']+)["']/.exec(xml)?.[1] : undefined;
const macOf = (xml: string): string | undefined => /^\s*<interface\b/.test(xml) ? /<mac\b[^>]*\baddress=["']([^"']+)["']/.exec(xml)?.[1]?.toLowerCase() : undefined;

/** The element in a domain's XML that libvirt would take `device` to mean: a disk by target, an interface by MAC. */
function findDevice(domainXml: string, device: string): string | undefined {
  const target = diskTargetOf(device);
  if (target !== undefined) return [...domainXml.matchAll(/<disk\b[\s\S]*?<\/disk>/g)].map((m) => m[0]).find((el) => diskTargetOf(el) === target);
  const mac = macOf(device);
  if (mac !== undefined) return [...domainXml.matchAll(/<interface\b[\s\S]*?<\/interface>/g)].map((m) => m[0]).find((el) => macOf(el) === mac);
  return undefined;
}

/** The domain XML with the metadata element of namespace `uri` replaced (or removed), prefixed `key` as libvirt writes it. */
function withMetadataElement(domainXml: string, uri: string, key: string, element: string | null): string {
  const escaped = uri.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let xml = domainXml.replace(new RegExp(`<([\\w-]+):([\\w-]+)\\b[^>]*xmlns:\\1=["']${escaped}["'][^>]*?(/>|>[\\s\\S]*?</\\1:\\2>)`), '');
  if (element === null) return xml;
  const prefixed = element.trim()
    .replace(/<(\/?)([A-Za-z_][\w.-]*)(?=[\s/>])/g, `<$1${key}:$2`)
    .replace(/^<([^\s/>]+)/, `<$1 xmlns:${key}="${uri}"`);
  if (!/<metadata>/.test(xml)) xml = xml.replace(/(<uuid>[^<]*<\/uuid>)/, '$1<metadata></metadata>');
  return xml.replace('<metadata>', `<metadata>${prefixed}`);
}
