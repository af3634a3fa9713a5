// When a changed file is read. A file its writer closed or renamed into place is complete and is
// read at once, after a short look around: if other files change with it (a git checkout, an
// rsync, a folder copied), the change spans several files and is read once they have all been
// quiet for the settle time, so an intermediate state (a checkout A→B→A) is never applied. A
// file still open for writing (no close seen) waits for the settle time too: a save in several
// steps is read once, whole.
import { QuietFiles } from './quiet-files.js';

/**
 * How long a complete file waits for other files to change with it. A tool writing many files
 * writes them well under a millisecond apart; a person edits one file at a time.
 */
export const BURST_WINDOW_MS = 25;

interface Lone {
  timer: NodeJS.Timeout;
  done: () => void;
  finished: Promise<void>;
}

export class ChangedFiles {
  private readonly quiet: QuietFiles;
  /** Complete files waiting out the burst window. */
  private readonly lone = new Map<string, Lone>();
  /** When each path last had an event, for the burst window (pruned as it goes). */
  private readonly recent = new Map<string, number>();

  /** `read` gets each changed file when it is time to read it. */
  constructor(settleMs: number, private readonly read: (path: string) => void, private readonly burstMs = BURST_WINDOW_MS) {
    this.quiet = new QuietFiles(settleMs, read);
  }

  /** An event about `path`; `complete` when its writer closed it or renamed it into place. */
  seen(path: string, complete: boolean): void {
    const others = this.othersChanging(path);
    // Several files changing together: all wait until quiet. So does a file still being written.
    if (others) for (const p of [...this.lone.keys()]) this.toQuiet(p);
    if (others || !complete) return this.toQuiet(path);
    this.finish(path);
    let done!: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    const timer = setTimeout(() => {
      this.finish(path);
      this.quiet.forget(path); // an earlier write's wait: the file is complete now
      this.read(path);
    }, this.burstMs);
    timer.unref();
    this.lone.set(path, { timer, done, finished });
  }

  /** A file was removed: nothing to read, but a change it is part of spans several files. */
  removed(path: string): void {
    this.finish(path);
    if (this.othersChanging(path)) for (const p of [...this.lone.keys()]) this.toQuiet(p);
  }

  /** Whether a change of this file is waiting to be read. */
  isWaiting(path: string): boolean {
    return this.lone.has(path) || this.quiet.isWaiting(path);
  }

  isBusy(): boolean {
    return this.lone.size > 0 || this.quiet.isBusy();
  }

  /** Resolves once no file is waiting (each read or dropped). */
  async idle(): Promise<void> {
    while (this.isBusy()) {
      await Promise.all([...this.lone.values()].map((l) => l.finished));
      await this.quiet.idle();
    }
  }

  stop(): void {
    for (const path of [...this.lone.keys()]) this.finish(path);
    this.quiet.stop();
  }

  /** Notes an event about `path`; whether other files had events within the burst window or wait to be read. */
  private othersChanging(path: string): boolean {
    const now = performance.now();
    for (const [p, at] of this.recent) if (now - at >= this.burstMs) this.recent.delete(p);
    this.recent.set(path, now);
    return [...this.recent.keys()].some((p) => p !== path) || [...this.lone.keys()].some((p) => p !== path) || this.quiet.isBusyOtherThan(path);
  }

  private toQuiet(path: string): void {
    this.finish(path);
    this.quiet.touch(path);
  }

  private finish(path: string): void {
    const lone = this.lone.get(path);
    if (!lone) return;
    clearTimeout(lone.timer);
    this.lone.delete(path);
    lone.done();
  }
}
