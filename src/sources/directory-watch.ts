// Watches a directory tree with one inotify watch per directory, not one per file as chokidar
// does: 10,000 files cost chokidar about 60 MB and 1.5 s before it is ready; here they cost one
// watch and one listing. Events say which path to look at, and whether the file is complete
// (closed after writing, or renamed into place); the path is stat-ed when the event arrives, so
// a burst of events for one file ends in its state as it is.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { errorMessage } from '../core/logger.js';
import { IN, openInotify, type Inotify, type InotifyEvent } from './inotify.js';

/** What is asked of the kernel for each directory. */
const MASK = IN.IN_CREATE | IN.IN_MODIFY | IN.IN_ATTRIB | IN.IN_CLOSE_WRITE | IN.IN_MOVED_FROM | IN.IN_MOVED_TO
  | IN.IN_DELETE | IN.IN_DELETE_SELF | IN.IN_MOVE_SELF | IN.IN_ONLYDIR;
/** The events after which a file holds what its writer meant: written and closed, or renamed into place. */
const COMPLETE = IN.IN_CLOSE_WRITE | IN.IN_MOVED_TO;

export interface DirectoryWatchHandlers {
  /** Paths not to watch or report: `isFile` tells a file from a directory. */
  ignored: (path: string, isFile: boolean) => boolean;
  /**
   * A file appeared or its content may have changed; `complete` when its writer closed it or
   * renamed it into place (otherwise it may still be being written).
   */
  changed: (path: string, complete: boolean) => void;
  /** A file is gone (removed, renamed away, or its directory went). */
  removed: (path: string) => void;
  /** The watched directory itself is gone. */
  rootGone: () => void;
  error: (err: Error) => void;
}

export class DirectoryWatch {
  /** Watched directories by path, with their watch and the real path each resolves to (symlink loops are not followed). */
  private readonly dirs = new Map<string, { wd: number; real: string }>();
  private readonly byWd = new Map<number, string>();
  private inotify: Inotify | undefined;
  /** Files seen, so that a removal is reported only for what was reported before. */
  private readonly files = new Set<string>();

  constructor(private readonly root: string, private readonly on: DirectoryWatchHandlers) {}

  /** Starts watching and returns every file present (watches are set before each listing, so nothing is missed between). */
  start(): string[] {
    this.inotify ??= openInotify((events) => this.onEvents(events));
    this.addDir(this.root);
    return [...this.files];
  }

  close(): void {
    this.inotify?.close();
    this.inotify = undefined;
    this.dirs.clear();
    this.byWd.clear();
    this.files.clear();
  }

  private onEvents(events: InotifyEvent[]): void {
    for (const { wd, mask, name } of events) {
      if (mask & IN.IN_Q_OVERFLOW) {
        // The kernel dropped events: every directory is compared with what is known.
        for (const dir of [...this.dirs.keys()]) this.rescan(dir);
        continue;
      }
      const dir = this.byWd.get(wd);
      if (dir === undefined) continue;
      if (mask & IN.IN_IGNORED) {
        // The watch is gone (its directory was removed): its parent's event reported the files.
        if (this.dirs.get(dir)?.wd === wd) this.forgetDir(dir);
        if (dir === this.root) this.on.rootGone();
        continue;
      }
      if (mask & (IN.IN_DELETE_SELF | IN.IN_MOVE_SELF)) {
        if (dir === this.root && !existsSync(this.root)) this.on.rootGone();
        continue;
      }
      this.look(dir, name, (mask & COMPLETE) !== 0);
    }
  }

  /** Watches `dir` and everything under it; returns the files found. */
  private addDir(dir: string): string[] {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return [];
    }
    if (this.dirs.has(dir) || [...this.dirs.values()].some((d) => d.real === real) || !this.inotify) return [];
    let wd: number;
    try {
      wd = this.inotify.add(dir, MASK);
    } catch (err) {
      // Gone again (its parent's event reports it), or inotify refused (no watches left).
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.on.error(new Error(`cannot watch ${dir}: ${errorMessage(err)}`));
      if (dir === this.root && code === 'ENOENT') this.on.rootGone();
      return [];
    }
    // A directory reached by two paths (a bind mount) has one watch: the kernel returns its descriptor again.
    const other = this.byWd.get(wd);
    if (other !== undefined && other !== dir) return [];
    this.byWd.set(wd, dir);
    this.dirs.set(dir, { wd, real });
    const found: string[] = [];
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return found;
    }
    for (const name of entries) found.push(...this.visit(join(dir, name)));
    return found;
  }

  /** A path to take as it is now: a file to report, a directory to watch; returns new files. */
  private visit(path: string): string[] {
    let isFile: boolean;
    let isDir: boolean;
    try {
      const s = statSync(path);
      isFile = s.isFile();
      isDir = s.isDirectory();
    } catch {
      return [];
    }
    if (this.on.ignored(path, isFile)) return [];
    if (isDir) return this.addDir(path);
    if (!isFile || this.files.has(path)) return [];
    this.files.add(path);
    return [path];
  }

  /** An event in `dir` about `name` ('': something changed, look at everything). */
  private look(dir: string, name: string, complete: boolean): void {
    if (!this.dirs.has(dir)) return;
    if (!name) return this.rescan(dir);
    const path = join(dir, name);
    let kind: 'file' | 'dir' | 'gone' | 'other';
    try {
      const s = statSync(path);
      kind = s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
    } catch {
      kind = 'gone';
    }
    if (kind === 'gone' || kind === 'other') {
      this.gone(path);
      if (dir === this.root && !this.exists(this.root)) this.on.rootGone();
      return;
    }
    if (this.on.ignored(path, kind === 'file')) return;
    if (kind === 'dir') {
      // Files found by listing a new folder were written before it was watched: not known complete.
      for (const file of this.addDir(path)) this.on.changed(file, false);
      return;
    }
    if (this.dirs.has(path)) this.gone(path); // a directory replaced by a file
    this.files.add(path);
    this.on.changed(path, complete);
  }

  /** A path no longer there (file or directory): report the files that went with it. */
  private gone(path: string): void {
    if (this.files.delete(path)) this.on.removed(path);
    if (!this.dirs.has(path)) return;
    const under = path + sep;
    for (const dir of [...this.dirs.keys()]) if (dir === path || dir.startsWith(under)) this.dropDir(dir);
    for (const file of [...this.files]) {
      if (!file.startsWith(under)) continue;
      this.files.delete(file);
      this.on.removed(file);
    }
  }

  private exists(path: string): boolean {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  }

  private dropDir(dir: string): void {
    const entry = this.dirs.get(dir);
    if (entry) this.inotify?.remove(entry.wd);
    this.forgetDir(dir);
  }

  private forgetDir(dir: string): void {
    const entry = this.dirs.get(dir);
    if (entry && this.byWd.get(entry.wd) === dir) this.byWd.delete(entry.wd);
    this.dirs.delete(dir);
  }

  /** The kernel did not say which entry changed: compare the listing with what is known. */
  private rescan(dir: string): void {
    for (const file of [...this.files]) {
      if (relative(dir, file).includes(sep)) continue;
      this.look(dir, relative(dir, file), false);
    }
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch { /* gone: its parent's event reports it */ }
    for (const name of entries) this.look(dir, name, false);
  }
}
