// Manifests are parsed in worker threads, never on the caller's event loop: whatever a file
// contains, reconciles, the API and health checks go on. Each parse has a time budget and each
// worker a heap limit; a file that exceeds either becomes that file's error (with a line, like
// every other) and the worker is replaced.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../package-root.js';
import { FILE_TOO_LARGE, MAX_MANIFEST_BYTES } from './manifest-limits.js';
import type { ParseRequest, WorkerReady } from './manifest-parse-worker.js';
import type { ParsedFile } from './manifest-parser.js';

export interface ParsePoolOptions {
  /** Workers at most (the machine may have two cores, shared with libvirt and OVS): one, and another only while a parse runs long. */
  workers?: number;
  /** A parse that takes longer is stopped and reported as the file's error. */
  budgetMs?: number;
  /** Heap limit of each worker. */
  maxHeapMiB?: number;
  /** A worker with nothing to parse for this long is stopped (it holds 10-40 MB); the next parse starts one. */
  idleMs?: number;
  /** Workers kept loaded however long they idle (default 1): a lone edit must not wait for one to start. */
  residentWorkers?: number;
  /** A parse running this long lets the parses waiting start another worker (default SLOW_PARSE_MS). */
  slowMs?: number;
  /** The worker's script (tests: one that starts slowly); default the compiled manifest-parse-worker.js. */
  script?: string;
}

/** Files within the limits of manifest-limits.ts take under a second: this is the backstop. */
export const DEFAULT_PARSE_BUDGET_MS = 10_000;
export const DEFAULT_PARSE_HEAP_MIB = 512;
// A worker holds 20-30 MB (its own V8 heap with the YAML parser and schema validator): after the
// start's burst the extra ones go soon. One stays: starting it takes 200 ms on a quiet machine
// (seconds under load), and a lone edit is read 25 ms after its save, so an edit after a pause
// waited for it (the edit latency's p99 was that wait).
export const DEFAULT_PARSE_IDLE_MS = 3_000;
// One worker parses a thousand small files in well under a second; a second one costs its own
// schema compilation (half a second of CPU) and 10-15 MB, which pay only when a file takes long:
// then the files behind it go to another worker instead of waiting (bench controller-rss).
export const SLOW_PARSE_MS = 500;

/**
 * The worker's compiled script. Under vitest or tsx this module is TypeScript, which a worker
 * thread cannot load: the build in dist/ (kept current by the test setup) serves then.
 */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  const script = here.endsWith('.js') ? here.replace(/manifest-parse-pool\.js$/, 'manifest-parse-worker.js') : join(PACKAGE_ROOT, 'dist/src/sources/manifest-parse-worker.js');
  if (!existsSync(script)) throw new Error(`wimaxvm: ${script} is missing; run npm run build`);
  return script;
}

interface Job extends ParseRequest {
  budgetMs: number;
  resolve: (result: ParsedFile) => void;
}

interface Slot {
  worker: Worker;
  /** Loaded and warm: budgets run only from then on (a start-up is no file's fault). */
  ready: boolean;
  /** Sent to the worker, answered in order; the first is the one being parsed. */
  jobs: Job[];
  /** The budget of the first job. */
  timer?: NodeJS.Timeout;
  /** Stops the worker once it has been idle for idleMs. */
  idleTimer?: NodeJS.Timeout;
  /** The first job has run SLOW_PARSE_MS: jobs waiting may start another worker. */
  slow: boolean;
  slowTimer?: NodeJS.Timeout;
}

/**
 * Parses sent ahead to each worker: it answers one and starts the next at once, instead of
 * idling for a round trip through a busy event loop (a thousand files at start). Only the one
 * being parsed runs against its budget; the others are sent to a new worker if that one fails.
 */
const PIPELINE_DEPTH = 16;

export class ManifestParsePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private readonly workers: number;
  private readonly budgetMs: number;
  private readonly maxHeapMiB: number;
  private readonly idleMs: number;
  private readonly residentWorkers: number;
  private readonly slowMs: number;
  private readonly script: string | undefined;

  constructor(opts: ParsePoolOptions = {}) {
    this.workers = opts.workers ?? 2;
    this.budgetMs = opts.budgetMs ?? DEFAULT_PARSE_BUDGET_MS;
    this.maxHeapMiB = opts.maxHeapMiB ?? DEFAULT_PARSE_HEAP_MIB;
    this.idleMs = opts.idleMs ?? DEFAULT_PARSE_IDLE_MS;
    this.residentWorkers = opts.residentWorkers ?? 1;
    this.slowMs = opts.slowMs ?? SLOW_PARSE_MS;
    this.script = opts.script;
  }

  /** Workers running now. */
  get workerCount(): number {
    return this.slots.length;
  }

  /**
   * Starts a worker if none runs, so that a parse expected soon does not wait for one to load.
   * A start's burst of files needs no more: one serves it, another starts only for a slow file (SLOW_PARSE_MS).
   */
  warm(): void {
    if (this.slots.length === 0) this.idle(this.spawn());
  }

  /** Parses `text` (the content of `file`) in a worker; never rejects: every failure is an error of the file. */
  parse(text: string, file: string, budgetMs = this.budgetMs): Promise<ParsedFile> {
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, text, file, budgetMs, resolve });
      this.dispatch();
    });
  }

  /** Stops every worker; queued parses end with an error. */
  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) job.resolve(failed(job, 'the parser was stopped'));
    await Promise.all(this.slots.splice(0).map((slot) => {
      clearTimeout(slot.timer);
      clearTimeout(slot.idleTimer);
      clearTimeout(slot.slowTimer);
      for (const job of slot.jobs.splice(0)) job.resolve(failed(job, 'the parser was stopped'));
      return slot.worker.terminate();
    }));
  }

  /** Hands queued jobs to the least busy worker, starting workers up to the limit. */
  private dispatch(): void {
    while (this.queue.length) {
      let slot = this.slots.find((s) => s.jobs.length === 0);
      if (!slot && this.slots.length < this.workers && this.slots.every((s) => s.slow)) slot = this.spawn();
      slot ??= this.slots.reduce<Slot | undefined>((best, s) => (s.jobs.length < PIPELINE_DEPTH && (!best || s.jobs.length < best.jobs.length) ? s : best), undefined);
      if (!slot) return;
      const job = this.queue.shift()!;
      clearTimeout(slot.idleTimer);
      slot.jobs.push(job);
      slot.worker.ref(); // a parse in flight keeps a CLI process alive until it answers
      if (slot.jobs.length === 1) this.arm(slot);
      slot.worker.postMessage({ id: job.id, text: job.text, file: job.file } satisfies ParseRequest);
    }
  }

  /** The first job's budget starts (once the worker is ready: before, it is loading, not parsing). */
  private arm(slot: Slot): void {
    clearTimeout(slot.timer);
    clearTimeout(slot.slowTimer);
    slot.slow = false;
    const job = slot.ready ? slot.jobs[0] : undefined;
    slot.timer = job && setTimeout(() => this.fail(slot, `parse exceeded ${job.budgetMs} ms; nothing in this file is applied (split it or simplify it)`), job.budgetMs);
    slot.slowTimer = job && setTimeout(() => {
      slot.slow = true;
      this.dispatch();
    }, this.slowMs);
    slot.slowTimer?.unref();
  }

  private spawn(): Slot {
    const worker = new Worker(this.script ?? workerScript(), { resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMiB } });
    const slot: Slot = { worker, jobs: [], ready: false, slow: false };
    worker.on('message', (message: WorkerReady | { id: number; result: ParsedFile }) => {
      if ('ready' in message) {
        slot.ready = true;
        return this.arm(slot);
      }
      const { id, result } = message;
      if (slot.jobs[0]?.id !== id) return;
      const job = slot.jobs.shift()!;
      this.arm(slot);
      if (slot.jobs.length === 0) this.idle(slot);
      job.resolve(result);
      this.dispatch();
    });
    worker.on('error', (err) => {
      const outOfMemory = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.fail(slot, outOfMemory ? `parsing needs more than ${this.maxHeapMiB} MiB; nothing in this file is applied` : `the parser failed: ${err.message}`);
    });
    worker.on('exit', () => {
      if (this.slots.includes(slot)) this.fail(slot, 'the parser exited');
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  /** Nothing left to parse in `slot`: it may not keep the process alive, and stops after idleMs unless it is resident. */
  private idle(slot: Slot): void {
    slot.worker.unref();
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (slot.jobs.length || this.slots.length <= this.residentWorkers) return;
      this.slots.splice(this.slots.indexOf(slot), 1);
      void slot.worker.terminate();
    }, this.idleMs);
    slot.idleTimer.unref();
  }

  /** The job being parsed in `slot` fails with `why`; the worker is replaced, since it may still be busy, and gets the jobs sent after it. */
  private fail(slot: Slot, why: string): void {
    clearTimeout(slot.timer);
    clearTimeout(slot.idleTimer);
    clearTimeout(slot.slowTimer);
    const [job, ...after] = slot.jobs.splice(0);
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    void slot.worker.terminate();
    this.queue.unshift(...after);
    if (job) job.resolve(failed(job, why));
    this.dispatch();
  }
}

function failed(job: ParseRequest, why: string): ParsedFile {
  return { resources: [], errors: [{ file: job.file, line: 1, message: why }] };
}

let shared: ManifestParsePool | undefined;

/** Parses a manifest file off the event loop, within the default time budget and heap limit. */
export function parseManifestsOffThread(text: string, file: string): Promise<ParsedFile> {
  shared ??= new ManifestParsePool();
  return shared.parse(text, file);
}

/** A parse is expected soon (a file changed, or a directory is about to be read): start a worker meanwhile. */
export function warmManifestParser(): void {
  shared ??= new ManifestParsePool();
  shared.warm();
}

/**
 * Reads and parses the manifest file at `path` (named `file` in errors) the same way: a file over
 * the size limit is refused without being read. A file that cannot be read throws.
 */
export async function parseManifestFile(path: string, file: string = path): Promise<ParsedFile> {
  if (statSync(path).size > MAX_MANIFEST_BYTES) return { resources: [], errors: [{ file, ...FILE_TOO_LARGE }] };
  return parseManifestsOffThread(await readFile(path, 'utf8'), file);
}
