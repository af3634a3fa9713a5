// In-memory Hypervisor for reconciler tests: domains by name, libvirt's rules on define/start/
// undefine, every mutating call recorded, failures injectable, drift simulated by helpers.
import { parseDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { assertPermit, type DeletionPermit } from '../../src/core/deletion-gate.js';
import {
  HypervisorUnavailableError,
  type DomainActivity,
  type DomainSnapshot,
  type DomainState,
  type Hypervisor,
} from '../../src/ports/hypervisor.js';

export type FakeHypervisorOp = 'define' | 'start' | 'shutdown' | 'destroy' | 'undefine' | 'suspend' | 'resume';

export interface FakeHypervisorCall {
  op: FakeHypervisorOp;
  name: string;
}

interface FakeDomain {
  name: string;
  uuid: string;
  state: DomainState;
  id?: number;
  persistentXml: string;
  liveXml?: string;
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
  }

  /** Someone ran `virsh destroy`, or the guest powered itself off. */
  stopBehindBack(name: string): void {
    this.powerOff(this.must(name));
  }

  /** Someone ran `virsh destroy` and `virsh undefine`: the domain is gone. */
  undefineBehindBack(name: string): void {
    this.must(name);
    this.domains.delete(name);
  }

  /** Someone ran `virsh edit`: the persistent definition changes, the live one does not. */
  editXml(name: string, edit: (xml: string) => string): void {
    const d = this.must(name);
    const xml = edit(d.persistentXml);
    const parsed = parseDomainXml(xml);
    if (parsed.name !== name || parsed.uuid !== d.uuid) throw new Error('fake: editXml may not change the name or uuid');
    d.persistentXml = xml;
  }

  /** A domain defined outside the reconciler (a foreign one, or a guest started by hand). */
  defineBehindBack(xml: string): void {
    this.doDefine(xml);
  }

  startBehindBack(name: string): void {
    this.doStart(this.must(name));
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
    if (ACTIVE.has(d.state)) throw new Error('Requested operation is not valid: domain is already running');
    this.doStart(d);
  }

  async shutdown(name: string): Promise<void> {
    this.record('shutdown', name);
    const d = this.must(name);
    if (!ACTIVE.has(d.state)) throw new Error('Requested operation is not valid: domain is not running');
    if (this.ignoreShutdown.has(name)) return; // the guest ignores ACPI
    this.powerOff(d);
  }

  async destroy(name: string): Promise<void> {
    this.record('destroy', name);
    const d = this.must(name);
    if (!ACTIVE.has(d.state)) throw new Error('Requested operation is not valid: domain is not running');
    this.powerOff(d);
  }

  async undefine(name: string, permit: DeletionPermit): Promise<void> {
    assertPermit(permit, name);
    this.record('undefine', name);
    const d = this.must(name);
    if (ACTIVE.has(d.state)) throw new Error(`Requested operation is not valid: cannot undefine active domain '${name}'`);
    this.domains.delete(name);
  }

  async suspend(name: string): Promise<void> {
    this.record('suspend', name);
    const d = this.must(name);
    if (d.state !== 'running') throw new Error('Requested operation is not valid: domain is not running');
    d.state = 'paused';
  }

  async resume(name: string): Promise<void> {
    this.record('resume', name);
    const d = this.must(name);
    if (d.state !== 'paused') throw new Error('Requested operation is not valid: domain is not paused');
    d.state = 'running';
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
    if (!d) throw new Error(`Domain not found: no domain with matching name '${name}'`);
    return d;
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
    else this.domains.set(name, { name, uuid, state: 'shutoff', persistentXml: xml });
  }

  private doStart(d: FakeDomain): void {
    d.state = 'running';
    d.id = this.nextId++;
    // As libvirt does for autoport graphics: the live XML carries the port actually given.
    d.liveXml = d.persistentXml.replace(/(<graphics\b[^>]*\bport=")-1(")/, `$1${5900 + d.id}$2`);
  }

  private powerOff(d: FakeDomain): void {
    d.state = 'shutoff';
    delete d.id;
    delete d.liveXml;
  }

  private snapshot(d: FakeDomain): DomainSnapshot {
    const active = ACTIVE.has(d.state);
    return {
      name: d.name,
      uuid: d.uuid,
      state: d.state,
      persistentXml: d.persistentXml,
      ...(active && d.id !== undefined ? { id: d.id } : {}),
      ...(active && d.liveXml !== undefined ? { liveXml: d.liveXml } : {}),
    };
  }
}
