// Watches a directory tree with one inotify watch per directory (fs.watch), not one per file as
// chokidar does: 10,000 files cost chokidar about 60 MB and 1.5 s before it is ready; here
// they cost one watch and one listing. Events say only which path to look at; the path is
// stat-ed when the event arrives, so a burst of events for one file ends in its state as it is.
import { readdirSync, realpathSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { errorMessage } from '../core/logger.js';

export interface DirectoryWatchHandlers {
  /** Paths not to watch or report: `isFile` tells a file from a directory. */
  ignored: (path: string, isFile: boolean) => boolean;
  /** A file appeared or its content may have changed. */
  changed: (path: string) => void;
  /** A file is gone (removed, renamed away, or its directory went). */
  removed: (path: string) => void;
  /** The watched directory itself is gone. */
  rootGone: () => void;
  error: (err: Error) => void;
}

export class DirectoryWatch {
  /** Watched directories by path, with the real path each resolves to (symlink loops are not followed). */
  private readonly dirs = new Map<string, { watcher: FSWatcher; real: string }>();
  /** Files seen, so that a removal is reported only for what was reported before. */
  private readonly files = new Set<string>();

  constructor(private readonly root: string, private readonly on: DirectoryWatchHandlers) {}

  /** Starts watching and returns every file present (watches are set before each listing, so nothing is missed between). */
  start(): string[] {
    this.addDir(this.root);
    return [...this.files];
  }

  close(): void {
    for (const { watcher } of this.dirs.values()) watcher.close();
    this.dirs.clear();
    this.files.clear();
  }

  /** Watches `dir` and everything under it; returns the files found. */
  private addDir(dir: string): string[] {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return [];
    }
    if (this.dirs.has(dir) || [...this.dirs.values()].some((d) => d.real === real)) return [];
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, (_event, name) => this.look(dir, name));
    } catch (err) {
      this.on.error(new Error(`cannot watch ${dir}: ${errorMessage(err)}`));
      return [];
    }
    watcher.on('error', (err) => {
      // The directory itself went away (its parent's event reports the files) or inotify failed.
      this.dropDir(dir);
      if (dir === this.root) this.on.rootGone();
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'EPERM') this.on.error(err);
    });
    this.dirs.set(dir, { watcher, real });
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

  /** An event in `dir` about `name` (undefined: something changed, look at everything). */
  private look(dir: string, name: string | Buffer | null): void {
    if (!this.dirs.has(dir)) return;
    if (name === null || name === undefined) return this.rescan(dir);
    const path = join(dir, name.toString());
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
      for (const file of this.addDir(path)) this.on.changed(file);
      return;
    }
    if (this.dirs.has(path)) this.gone(path); // a directory replaced by a file
    this.files.add(path);
    this.on.changed(path);
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
    this.dirs.get(dir)?.watcher.close();
    this.dirs.delete(dir);
  }

  /** The kernel did not say which entry changed: compare the listing with what is known. */
  private rescan(dir: string): void {
    for (const file of [...this.files]) {
      if (relative(dir, file).includes(sep)) continue;
      this.look(dir, relative(dir, file));
    }
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch { /* gone: its parent's event reports it */ }
    for (const name of entries) this.look(dir, name);
  }
}
