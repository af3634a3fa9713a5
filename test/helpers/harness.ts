// Runs the real controller (directory source, engine, LibvirtHypervisor) against a libvirt URI
// with temporary directories, plus a second libvirt connection to look at what it did.
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { StateReader } from '../../src/adapters/store/state-reader.js';
import { buildConfig, type RunFlags } from '../../src/config.js';
import { createLogger, silentLogger, type Logger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import type { FileMode } from '../../src/modes/file-mode.js';
import type { DirectorySource } from '../../src/sources/directory-source.js';
import type { VirtualMachineStatus } from '../../src/api/virtual-machine.js';
import { parseDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';

export interface VmYaml {
  name: string;
  namespace?: string;
  runStrategy?: string;
  memory?: string;
  vcpus?: number;
  mac?: string;
  extra?: string;
}

export function vmYaml(vm: VmYaml): string {
  return [
    'apiVersion: wimaxvm.io/v1alpha1',
    'kind: VirtualMachine',
    'metadata:',
    `  name: ${vm.name}`,
    ...(vm.namespace ? [`  namespace: ${vm.namespace}`] : []),
    'spec:',
    `  runStrategy: ${vm.runStrategy ?? 'Always'}`,
    `  memory: ${vm.memory ?? '64Mi'}`,
    `  vcpus: ${vm.vcpus ?? 1}`,
    ...(vm.mac ? ['  network:', `    mac: "${vm.mac}"`] : []),
    ...(vm.extra ? [vm.extra] : []),
  ].join('\n') + '\n';
}

export function manyVms(vms: VmYaml[]): string {
  return vms.map(vmYaml).join('---\n');
}

export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export class Harness {
  running: RunningController | undefined;
  readonly observer: LibvirtHypervisor;
  logs: string[] = [];

  constructor(readonly dir: string, readonly stateDir: string, readonly uri: string, public flags: RunFlags) {
    this.observer = new LibvirtHypervisor({ uri, logger: silentLogger });
  }

  static async create(opts: { uri?: string; flags?: RunFlags; files?: Record<string, string> } = {}): Promise<Harness> {
    const base = mkdtempSync(join(tmpdir(), 'wimaxvm-it-'));
    chmodSync(base, 0o755); // libvirtd's qemu user must reach overlays and images below it
    const h = new Harness(join(base, 'vms'), join(base, 'state'), opts.uri ?? 'test:///default', opts.flags ?? {});
    mkdirSync(h.dir, { recursive: true });
    for (const [file, text] of Object.entries(opts.files ?? {})) h.write(file, text);
    await h.observer.connect();
    return h;
  }

  logger(): Logger {
    return createLogger({ level: 'info', format: 'json', write: (line) => this.logs.push(line) });
  }

  async start(): Promise<RunningController> {
    const config = buildConfig({
      dir: this.dir, connect: this.uri, 'state-dir': this.stateDir, poll: '100ms', resync: '10m', 'shutdown-timeout': '1s', workers: '8', listen: 'off',
      ...this.flags,
    });
    this.running = await startController(config, this.logger());
    return this.running;
  }

  async stop(): Promise<void> {
    await this.running?.stop();
    this.running = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    await this.observer.close();
  }

  write(file: string, text: string): void {
    const path = join(this.dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }

  /** An editor's save: write a temporary file, rename it over the original. */
  atomicWrite(file: string, text: string): void {
    const path = join(this.dir, file);
    writeFileSync(`${path}.swp-tmp`, text);
    renameSync(`${path}.swp-tmp`, path);
  }

  /** The stored status as a fresh process (the CLI) would read it. */
  statusFromDisk(name: string, namespace = 'default'): VirtualMachineStatus | undefined {
    const reader = StateReader.open(this.stateDir);
    try {
      return reader?.objects('VirtualMachine', namespace, name)[0]?.status as VirtualMachineStatus | undefined;
    } finally {
      reader?.close();
    }
  }

  wipeState(): void {
    rmSync(this.stateDir, { recursive: true, force: true });
  }

  remove(file: string): void {
    rmSync(join(this.dir, file));
  }

  status(name: string, namespace = 'default'): VirtualMachineStatus | undefined {
    return this.running?.statuses.get(`VirtualMachine/${namespace}/${name}`)?.status as VirtualMachineStatus | undefined;
  }

  async domain(name: string) {
    const snapshot = await this.observer.getDomain(name);
    return snapshot && { ...snapshot, parsed: parseDomainXml(snapshot.persistentXml) };
  }

  /** Waits until the source has handled every file event and the queue is empty. */
  async settle(): Promise<void> {
    await new Promise((r) => setTimeout(r, 150)); // chokidar's atomic window
    await this.source().settled();
    await this.running!.idle();
  }

  /** The directory source of the running controller (file mode). */
  source(): DirectorySource {
    return (this.running!.mode as FileMode).source!;
  }

  async waitForStatus(name: string, printable: string, timeoutMs?: number): Promise<VirtualMachineStatus> {
    return eventually(() => {
      const s = this.status(name);
      return s?.printableStatus === printable ? s : undefined;
    }, `${name} to be ${printable}`, timeoutMs).catch((err: Error) => {
      // Say what it is at the end of the wait (and why), not what it was at the start.
      const s = this.status(name);
      const why = s?.conditions.find((c) => c.type === 'Ready')?.message;
      throw new Error(`${err.message} (it is ${s?.printableStatus}${why ? `: ${why}` : ''})`);
    });
  }
}
