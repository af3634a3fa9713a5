// The controller as a child process (`wimaxvm run`, built), so that its memory and CPU are its
// own and nothing of the bench's: reached through its /metrics, stopped by its own pid only.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { parseSamples, sum, type Samples } from '../../test/helpers/metrics-text.js';
import { cpuSeconds, memoryMiB } from './process-usage.js';

export { parseSamples, sum, type Samples } from '../../test/helpers/metrics-text.js';

export class ControllerChild {
  private log = '';
  private url: string | undefined;
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (c) => (this.log = (this.log + String(c)).slice(-200_000)));
    child.stderr!.on('data', (c) => (this.log = (this.log + String(c)).slice(-200_000)));
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  }

  /** `wimaxvm run FLAGS --listen 127.0.0.1:0`; resolves once its HTTP API answers and its directory source has synced. */
  static async start(flags: string[]): Promise<ControllerChild> {
    // WIMAXVM_BENCH_CPU_PROF=DIR: a CPU profile of each controller into DIR (Node refuses --cpu-prof in NODE_OPTIONS).
    const profile = process.env.WIMAXVM_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.WIMAXVM_BENCH_CPU_PROF}`] : [];
    const child = spawn(process.execPath, [...profile, join(PACKAGE_ROOT, 'bin', 'wimaxvm.js'), 'run', ...flags, '--listen', '127.0.0.1:0', '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const c = new ControllerChild(child);
    let gone = false;
    void c.exited.then(() => (gone = true));
    for (;;) {
      if (gone) throw new Error(`the controller exited before listening:\n${c.log.slice(-3000)}`);
      const address = /"msg":"HTTP API listening"[^\n]*"address":"([^"]+)"/.exec(c.log)?.[1];
      // Files written before the directory source has synced may be missed (seen: 9 of 10 files
      // written during a slow start never read until a resync): declare only after it.
      if (address && /"msg":"directory source synced"/.test(c.log)) {
        c.url = `http://${address}/metrics`;
        return c;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The end of its log, for an error message. */
  logTail(chars = 3000): string {
    return this.log.slice(-chars);
  }

  get pid(): number {
    return this.child.pid!;
  }

  async metrics(): Promise<Samples> {
    return parseSamples(await (await fetch(this.url!)).text());
  }

  cpuSeconds(): number {
    return cpuSeconds(this.pid);
  }

  memoryMiB(): { rss: number; peak: number } {
    return memoryMiB(this.pid);
  }

  /** Polls /metrics every `everyMs` until `done` holds for a scrape; a bench never hangs: gives up after `timeoutMs`. */
  async until(done: (m: Samples) => boolean, everyMs = 100, timeoutMs = 20 * 60_000): Promise<Samples> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`the controller exited:\n${this.log.slice(-3000)}`);
      if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000} s waiting on the controller; its log ends:\n${this.log.slice(-3000)}`);
      const m = await this.metrics();
      if (done(m)) return m;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** SIGTERM to this child (graceful stop) and its exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** Every VM Running and both queues empty. */
export function convergedOn(n: number): (m: Samples) => boolean {
  return (m) => m.get('wimaxvm_vms{status="Running"}') === n
    && sum(m, 'wimaxvm_workqueue_depth') === 0 && sum(m, 'wimaxvm_workqueue_in_flight') === 0;
}
