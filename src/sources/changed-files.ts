// When a changed file is read. A file its writer closed or renamed into place is complete and is
// read at once, after a short look around: if other files change with it (a git checkout, an
// rsync, a folder copied) and one of them was read before (or is removed), the change spans
// several files and they are all read once quiet for the settle time, so an intermediate state
// (a checkout A→B→A, a stash-pull-pop) never changes, starts or stops a VM only to undo it. New
// files written together and nothing else (a script or `cp` declaring VMs) can only add
// declarations: they are read at once. A file still open for writing (no close seen) waits for
// the settle time too: a save in several steps is read once, whole.
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
  /** When each path last had an event, for the burst window (pruned as it goes), and whether it is new. */
  private readonly recent = new Map<string, { at: number; isNew: boolean }>();

  /**
   * `read` gets each changed file when it is time to read it; `isNew` tells a file never read
   * (it can only add declarations) from one read before.
   */
  constructor(
    settleMs: number,
    private readonly read: (path: string) => void,
    private readonly isNew: (path: string) => boolean = () => false,
    private readonly burstMs = BURST_WINDOW_MS,
  ) {
    this.quiet = new QuietFiles(settleMs, read);
  }

  /** An event about `path`; `complete` when its writer closed it or renamed it into place. */
  seen(path: string, complete: boolean): void {
    // Several files changing together, not only new ones: all wait until quiet. So does a file still being written.
    if (this.spansKnownFiles(path, this.isNew(path))) {
      for (const p of [...this.lone.keys()]) this.toQuiet(p);
      return this.toQuiet(path);
    }
    if (!complete) return this.toQuiet(path);
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
    if (this.spansKnownFiles(path, false)) for (const p of [...this.lone.keys()]) this.toQuiet(p);
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

  /**
   * Notes an event about `path` (`isNew`: a file never read); whether it is part of a change
   * spanning several files of which one was read before or removed: other files had events within
   * the burst window or wait to be read, and they are not all new files.
   */
  private spansKnownFiles(path: string, isNew: boolean): boolean {
    const now = performance.now();
    for (const [p, { at }] of this.recent) if (now - at >= this.burstMs) this.recent.delete(p);
    this.recent.set(path, { at: now, isNew });
    const known = (p: string) => !(this.recent.get(p)?.isNew ?? this.isNew(p));
    // A new file joins only changes of files read before; a file read before joins any change.
    const joins = isNew ? known : () => true;
    if (this.quiet.isBusyOtherThan(path, joins)) return true;
    return [...this.recent.keys(), ...this.lone.keys()].some((p) => p !== path && joins(p));
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
