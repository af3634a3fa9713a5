// kill -9 of the controller at random moments while it converges VMs and their stations, files
// edited between rounds; then one last run converges and the invariants are checked. The
// controller is a child process of this one (killed by its PID only) on test+unix:///default,
// libvirtd's test driver, whose state outlives the controller while we hold a connection open
// (it is dropped when the last connection closes: checked by hand with virsh).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConnection } from '../../../src/adapters/libvirt/native.js';
import { LibvirtHypervisor } from '../../../src/adapters/libvirt/libvirt-hypervisor.js';
import { StateReader } from '../../../src/adapters/store/state-reader.js';
import { silentLogger } from '../../../src/core/logger.js';
import { parseDomainXml } from '../../../src/reconcilers/virtual-machine/domain-xml.js';
import { rng } from '../fuzz/generator.js';

/** libvirtd's test driver, in the daemon at `socket` (a private one: see crash.test.ts). */
export function crashUri(socket: string): string {
  return `test+unix:///default?socket=${socket}`;
}
const BIN = join(process.cwd(), 'bin', 'wimaxvm.js');

export interface CrashOptions {
  /** libvirt URI of a test driver whose state outlives the controller (crashUri). */
  uri: string;
  seed: number;
  rounds: number;
  vms: number;
  /** Stations (WimaxClient) per VM, on the first half of the VMs. */
  log?: (line: string) => void;
}

interface Declared {
  vms: Map<string, { memory: string; file: string; disk: boolean }>;
  clients: Map<string, { mac: string; vmName: string; file: string }>;
}

export interface CrashReport {
  kills: number;
  killedAtMs: number[];
  declaredVms: number;
  declaredClients: number;
  problems: string[];
}

export class CrashRun {
  readonly prefix: string;
  readonly base: string;
  readonly dir: string;
  readonly stateDir: string;
  readonly imageDir: string;
  readonly overlayDir: string;
  private readonly holder: LibvirtHypervisor;
  private readonly random: () => number;
  private child: ChildProcess | undefined;
  private readonly declared: Declared = { vms: new Map(), clients: new Map() };
  private nextVm = 0;
  private nextFile = 0;
  private output = '';
  /** libvirt actions the running controller logged (defined, started, updated, ...). */
  private actionCount = 0;

  constructor(private readonly opts: CrashOptions) {
    this.random = rng(opts.seed);
    this.prefix = `cr${process.pid.toString(36)}${Math.floor(this.random() * 1e6).toString(36)}`;
    this.base = mkdtempSync(join(tmpdir(), 'wimaxvm-crash-'));
    chmodSync(this.base, 0o755);
    this.dir = join(this.base, 'vms');
    this.stateDir = join(this.base, 'state');
    this.imageDir = join(this.base, 'images');
    this.overlayDir = join(this.base, 'overlays');
    for (const d of [this.dir, this.imageDir, this.overlayDir]) mkdirSync(d, { recursive: true });
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(this.imageDir, 'base.qcow2'), '16M']);
    this.holder = new LibvirtHypervisor({ uri: opts.uri, logger: silentLogger });
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  /** Opens the connection that keeps the test driver's state alive, and declares the first VMs. */
  async open(): Promise<void> {
    await this.holder.connect();
    for (let n = 0; n < this.opts.vms; n += 10) this.addFile(Math.min(10, this.opts.vms - n));
  }

  private pick<T>(xs: T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!;
  }

  /** A file of `count` VMs; the first half of them have a station each, one in three a disk. */
  private addFile(count: number): void {
    const file = `f${this.nextFile++}.yaml`;
    for (let i = 0; i < count; i++) {
      const name = `${this.prefix}-${this.nextVm++}`;
      this.declared.vms.set(name, { memory: '64Mi', file, disk: this.nextVm % 3 === 0 });
      if (i < count / 2) {
        const n = this.nextVm;
        this.declared.clients.set(`${name}-st`, { mac: `00:16:3e:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`, vmName: name, file });
      }
    }
    this.writeFile(file);
  }

  private writeFile(file: string): void {
    const docs: string[] = [];
    for (const [name, vm] of this.declared.vms) {
      if (vm.file !== file) continue;
      docs.push(`apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${name}\nspec:\n  runStrategy: Always\n  memory: ${vm.memory}\n  vcpus: 1\n${vm.disk ? '  disks:\n    - image: base.qcow2\n' : ''}`);
    }
    for (const [name, c] of this.declared.clients) {
      if (c.file === file) docs.push(`apiVersion: wimaxvm.io/v1alpha1\nkind: WimaxClient\nmetadata:\n  name: ${name}\nspec:\n  mac: "${c.mac}"\n  vmName: ${c.vmName}\n`);
    }
    const path = join(this.dir, file);
    if (!docs.length) {
      rmSync(path, { force: true });
      return;
    }
    writeFileSync(`${path}.tmp`, docs.join('---\n'));
    execFileSync('mv', [`${path}.tmp`, path]);
  }

  private files(): string[] {
    return [...new Set([...this.declared.vms.values()].map((v) => v.file))];
  }

  /** What people do between rounds: a file deleted, one added, memory changed, a station moved. */
  edit(): void {
    const files = this.files();
    if (files.length > 2) {
      const gone = this.pick(files);
      for (const [name, vm] of this.declared.vms) if (vm.file === gone) this.declared.vms.delete(name);
      for (const [name, c] of this.declared.clients) if (c.file === gone || !this.declared.vms.has(c.vmName)) this.declared.clients.delete(name);
      this.writeFile(gone);
      this.log(`edit: removed ${gone}`);
    }
    this.addFile(10);
    const changed = this.pick(this.files());
    for (const vm of this.declared.vms.values()) if (vm.file === changed) vm.memory = vm.memory === '64Mi' ? '96Mi' : '64Mi';
    const clients = [...this.declared.clients.values()];
    const vms = [...this.declared.vms.keys()];
    if (clients.length && vms.length) {
      const moved = this.pick(clients);
      moved.vmName = this.pick(vms.filter((n) => this.declared.vms.get(n)!.file === moved.file));
    }
    for (const f of new Set([changed, ...this.files()])) this.writeFile(f);
    this.log(`edit: memory flipped in ${changed}; ${this.declared.vms.size} VMs, ${this.declared.clients.size} stations declared`);
  }

  start(): ChildProcess {
    const child = spawn(process.execPath, [BIN, 'run', '--dir', this.dir, '--connect', this.opts.uri, '--state-dir', this.stateDir,
      '--image-dir', this.imageDir, '--overlay-dir', this.overlayDir, '--listen', 'off', '--log-format', 'json',
      '--poll', '250ms', '--resync', '5s', '--settle', '100ms', '--shutdown-timeout', '1s', '--workers', '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.output = '';
    this.actionCount = 0;
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => { this.output = (this.output + d.toString()).slice(-20_000); });
    // The log (JSON lines) goes to stderr.
    child.stderr!.on('data', (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      this.actionCount += lines.filter((l) => /"msg":"(defined|updated|started|shutting down|destroyed|undefined|deleted)\b/.test(l)).length;
    });
    this.child = child;
    return child;
  }

  /** How many libvirt actions the running controller has logged. */
  get actions(): number {
    return this.actionCount;
  }

  /** kill -9 of the controller this run started, by its PID; resolves once it is gone. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    process.kill(child.pid!, 'SIGKILL');
    await gone;
  }

  async stopGracefully(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    process.kill(child.pid!, 'SIGTERM');
    await gone;
  }

  /** Whether the controller that runs now died by itself (a crash). */
  crashed(): string | undefined {
    const c = this.child;
    if (c && (c.exitCode !== null || (c.signalCode !== null && c.signalCode !== 'SIGKILL'))) return `the controller exited by itself (${c.exitCode ?? c.signalCode}):\n${this.output.slice(-3000)}`;
    return undefined;
  }

  async ourDomains(): Promise<Map<string, ReturnType<typeof parseDomainXml> & { state: string; id: number | undefined }>> {
    const all = await this.holder.listDomains();
    return new Map(all.filter((d) => d.name.startsWith(`${this.prefix}-`)).map((d) => [d.name, { ...parseDomainXml(d.persistentXml), state: d.state, id: d.id }]));
  }

  /** Every declaration converged: the domains are exactly the declared VMs, running, with their memory, and every status says so. */
  async converged(): Promise<string | undefined> {
    const domains = await this.ourDomains();
    for (const [name, vm] of this.declared.vms) {
      const d = domains.get(name);
      if (!d || d.state !== 'running') return `${name} is ${d?.state ?? 'absent'}`;
      if (d.facts.memoryKiB !== (vm.memory === '64Mi' ? 65536 : 98304)) return `${name} has ${d.facts.memoryKiB} KiB`;
    }
    for (const name of domains.keys()) if (!this.declared.vms.has(name)) return `${name} is still defined`;
    const reader = StateReader.open(this.stateDir);
    if (!reader) return 'no state database yet';
    try {
      const vmStatus = new Map(reader.objects('VirtualMachine', 'default').map((o) => [o.metadata.name as string, o]));
      for (const name of this.declared.vms.keys()) {
        const s = vmStatus.get(name)?.status as { printableStatus?: string; observedGeneration?: number } | undefined;
        if (s?.printableStatus !== 'Running') return `status of ${name} is ${s?.printableStatus}`;
        if (s.observedGeneration !== vmStatus.get(name)!.metadata.generation) return `status of ${name} is behind its generation`;
      }
      const clientStatus = new Map(reader.objects('WimaxClient', 'default').map((o) => [o.metadata.name as string, o]));
      for (const [name, c] of this.declared.clients) {
        const s = clientStatus.get(name)?.status as { vmName?: string } | undefined;
        if (s?.vmName !== c.vmName) return `station ${name} reports ${s?.vmName}, declared on ${c.vmName}`;
      }
    } finally {
      reader.close();
    }
    return undefined;
  }

  /** The invariants after the last round; each broken one is a line. */
  async check(): Promise<string[]> {
    const problems: string[] = [];
    const domains = await this.ourDomains();
    const uuids = [...domains.values()].map((d) => d.uuid);
    if (new Set(uuids).size !== uuids.length) problems.push('two domains share a uuid');
    const macs = [...domains.values()].map((d) => d.facts.nics[0]?.mac);
    const dupMacs = macs.filter((m, i) => macs.indexOf(m) !== i);
    if (dupMacs.length) problems.push(`MACs given twice in domains: ${dupMacs.join(', ')}`);
    const vlans = [...domains.values()].map((d) => d.owner?.vlan).filter((v) => v !== undefined);
    const dupVlans = vlans.filter((v, i) => vlans.indexOf(v) !== i);
    if (dupVlans.length) problems.push(`VLANs given twice in domain metadata: ${dupVlans.join(', ')}`);
    if (vlans.length !== domains.size) problems.push(`${domains.size - vlans.length} domains without a VLAN`);
    const reader = StateReader.open(this.stateDir)!;
    try {
      const vmObjects = reader.objects('VirtualMachine', 'default').filter((o) => (o.metadata.name as string).startsWith(`${this.prefix}-`));
      const stale = vmObjects.filter((o) => !this.declared.vms.has(o.metadata.name as string));
      if (stale.length) problems.push(`status kept of deleted VMs: ${stale.map((o) => o.metadata.name).join(', ')}`);
      const allocations = vmObjects.map((o) => (o.status as { allocations?: { vlan?: number; mac?: string } }).allocations ?? {});
      for (const field of ['vlan', 'mac'] as const) {
        const values = allocations.map((a) => a[field]).filter((v) => v !== undefined);
        const dup = values.filter((v, i) => values.indexOf(v) !== i);
        if (dup.length) problems.push(`${field} given twice in status: ${dup.join(', ')}`);
      }
      for (const o of vmObjects) {
        const a = (o.status as { allocations?: { vlan?: number; mac?: string } }).allocations;
        const d = domains.get(o.metadata.name as string);
        if (d && (a?.mac !== d.facts.nics[0]?.mac || a?.vlan !== d.owner?.vlan)) problems.push(`${o.metadata.name}: status says ${a?.mac}/${a?.vlan}, domain ${d.facts.nics[0]?.mac}/${d.owner?.vlan}`);
      }
      const staleClients = reader.objects('WimaxClient', 'default').filter((o) => (o.metadata.name as string).startsWith(`${this.prefix}-`) && !this.declared.clients.has(o.metadata.name as string));
      if (staleClients.length) problems.push(`status kept of deleted stations: ${staleClients.map((o) => o.metadata.name).join(', ')}`);
    } finally {
      reader.close();
    }
    const overlays = existsSync(this.overlayDir) ? readdirSync(this.overlayDir) : [];
    const leftover = overlays.filter((d) => !this.declared.vms.has(d));
    if (leftover.length) problems.push(`overlays left of deleted VMs: ${leftover.join(', ')}`);
    const withDisk = [...this.declared.vms].filter(([, v]) => v.disk).map(([n]) => n);
    const missing = withDisk.filter((n) => !overlays.includes(n));
    if (missing.length) problems.push(`VMs with a disk but no overlay: ${missing.join(', ')}`);
    return problems;
  }

  get declaredCounts(): { vms: number; clients: number } {
    return { vms: this.declared.vms.size, clients: this.declared.clients.size };
  }

  /** Removes every domain of this run (the driver is shared with other tests) and the files. */
  async dispose(): Promise<void> {
    await this.stopGracefully().catch(() => undefined);
    const raw = await openConnection(this.opts.uri);
    try {
      for (const name of (await this.ourDomains().catch(() => new Map())).keys()) {
        const d = await raw.lookupDomainByName(name);
        await d.destroy().catch(() => undefined);
        await d.undefine().catch(() => undefined);
      }
    } finally {
      await raw.close();
      await this.holder.close();
      rmSync(this.base, { recursive: true, force: true });
    }
  }
}
