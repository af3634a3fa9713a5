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
import type { ParseRequest } from './manifest-parse-worker.js';
import type { ParsedFile } from './manifest-parser.js';

export interface ParsePoolOptions {
  /** Workers at most (the machine may have two cores, shared with libvirt and OVS). */
  workers?: number;
  /** A parse that takes longer is stopped and reported as the file's error. */
  budgetMs?: number;
  /** Heap limit of each worker. */
  maxHeapMiB?: number;
}

/** Files within the limits of manifest-limits.ts take under a second: this is the backstop. */
export const DEFAULT_PARSE_BUDGET_MS = 10_000;
export const DEFAULT_PARSE_HEAP_MIB = 512;

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
  job?: Job;
  timer?: NodeJS.Timeout;
}

export class ManifestParsePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private readonly workers: number;
  private readonly budgetMs: number;
  private readonly maxHeapMiB: number;

  constructor(opts: ParsePoolOptions = {}) {
    this.workers = opts.workers ?? 2;
    this.budgetMs = opts.budgetMs ?? DEFAULT_PARSE_BUDGET_MS;
    this.maxHeapMiB = opts.maxHeapMiB ?? DEFAULT_PARSE_HEAP_MIB;
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
      if (slot.job) slot.job.resolve(failed(slot.job, 'the parser was stopped'));
      return slot.worker.terminate();
    }));
  }

  private dispatch(): void {
    while (this.queue.length) {
      let slot = this.slots.find((s) => !s.job);
      if (!slot && this.slots.length < this.workers) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref(); // a parse in flight keeps a CLI process alive until it answers
      slot.timer = setTimeout(() => this.fail(slot!, `parse exceeded ${job.budgetMs} ms; nothing in this file is applied (split it or simplify it)`), job.budgetMs);
      slot.worker.postMessage({ id: job.id, text: job.text, file: job.file } satisfies ParseRequest);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(workerScript(), { resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMiB } });
    const slot: Slot = { worker };
    worker.on('message', ({ id, result }: { id: number; result: ParsedFile }) => {
      if (slot.job?.id !== id) return;
      const job = slot.job;
      this.release(slot);
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

  private release(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
    slot.worker.unref();
  }

  /** The job in `slot` fails with `why`; the worker is replaced, since it may still be busy. */
  private fail(slot: Slot, why: string): void {
    const job = slot.job;
    this.release(slot);
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    void slot.worker.terminate();
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

/**
 * Reads and parses the manifest file at `path` (named `file` in errors) the same way: a file over
 * the size limit is refused without being read. A file that cannot be read throws.
 */
export async function parseManifestFile(path: string, file: string = path): Promise<ParsedFile> {
  if (statSync(path).size > MAX_MANIFEST_BYTES) return { resources: [], errors: [{ file, ...FILE_TOO_LARGE }] };
  return parseManifestsOffThread(await readFile(path, 'utf8'), file);
}
