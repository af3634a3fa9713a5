// A changed file is read only once it has been quiet for a while: an editor, `cp` or
// `git checkout` that writes a file in several steps (truncate, first half, rest; A→B→A) is
// seen once, at its final content, instead of applying a valid but different first half.
import { statSync } from 'node:fs';

/** How long a changed file must stay unchanged before it is read (file mode's default). */
export const DEFAULT_SETTLE_MS = 400;

interface Waiting {
  timer: NodeJS.Timeout;
  /** The file as stat saw it when the quiet period began (undefined: absent). */
  version: string | undefined;
  done: () => void;
  finished: Promise<void>;
}

/** Identity of a file's content as far as stat can tell; undefined when it is absent. */
export function statVersion(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.ino}/${s.size}/${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

export class QuietFiles {
  private readonly waiting = new Map<string, Waiting>();

  /** `onQuiet` gets each file that stayed unchanged for `quietMs` after its last change. */
  constructor(private readonly quietMs: number, private readonly onQuiet: (path: string) => void) {}

  /** A change was seen: the quiet period (re)starts. */
  touch(path: string): void {
    const entry = this.waiting.get(path);
    if (entry) clearTimeout(entry.timer);
    const next = entry ?? this.entry();
    next.version = statVersion(path);
    next.timer = setTimeout(() => this.check(path), this.quietMs);
    next.timer.unref();
    this.waiting.set(path, next);
  }

  /** Whether a change of this file is waiting for its quiet period to end. */
  isWaiting(path: string): boolean {
    return this.waiting.has(path);
  }

  isBusy(): boolean {
    return this.waiting.size > 0;
  }

  /** Whether a file other than `path` (and one that `which` picks) is waiting. */
  isBusyOtherThan(path: string, which: (other: string) => boolean = () => true): boolean {
    for (const other of this.waiting.keys()) if (other !== path && which(other)) return true;
    return false;
  }

  /** Drops a file's wait without handing it on (it is read another way). */
  forget(path: string): void {
    this.finish(path);
  }

  /** Resolves once no file is waiting (each handed on or dropped). */
  async idle(): Promise<void> {
    while (this.waiting.size) await Promise.all([...this.waiting.values()].map((w) => w.finished));
  }

  stop(): void {
    for (const path of [...this.waiting.keys()]) this.finish(path);
  }

  /** Changed without an event we saw (a watch can fold quick follow-ups into one): wait again. */
  private check(path: string): void {
    const entry = this.waiting.get(path);
    if (!entry) return;
    const now = statVersion(path);
    if (now !== entry.version) return this.touch(path);
    this.finish(path);
    // Absent: its removal has its own event and its own second look.
    if (now !== undefined) this.onQuiet(path);
  }

  private finish(path: string): void {
    const entry = this.waiting.get(path);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.waiting.delete(path);
    entry.done();
  }

  private entry(): Waiting {
    let done!: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    return { timer: undefined as unknown as NodeJS.Timeout, version: undefined, done, finished };
  }
}
