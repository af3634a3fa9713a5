// Desired state from YAML files in a watched directory. Each file is read only when it changes;
// a file that fails to parse or validate keeps its resources' last good state (nothing is
// stopped or removed because of it); the same resource declared twice is reported on both
// places and neither declaration wins.
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, relative, resolve } from 'node:path';
import { SOURCE_ANNOTATION, type Resource, type ResourceKey } from '../api/meta.js';
import { stableStringify } from '../api/stable-json.js';
import type { DeclaredResource } from '../api/schema.js';
import type { Absence, AbsenceWitness } from '../core/deletion-gate.js';
import type { DesiredStore } from '../core/desired-store.js';
import { errorMessage, type Logger } from '../core/logger.js';
import { duplicateDeclarationProblem } from './duplicate-declarations.js';
import { FILE_TOO_LARGE, MAX_MANIFEST_BYTES } from './manifest-limits.js';
import { parseManifestsOffThread, warmManifestParser } from './manifest-parse-pool.js';
import { formatManifestError, type ManifestError } from './manifest-parser.js';
import { DEFAULT_SETTLE_MS } from './quiet-files.js';
import { ChangedFiles } from './changed-files.js';
import { DirectoryWatch } from './directory-watch.js';

/** Kept here too for its users; defined in api/meta.ts, which the CLI loads without chokidar. */
export { SOURCE_ANNOTATION };

const MANIFEST_FILE = /\.ya?ml$/;

/**
 * Each read is checked again this much later and the file read again if it moved meanwhile: a
 * backstop for a change whose event was lost (an inotify queue overflow).
 */
const RECHECK_MS = 120;

/**
 * Resources leave only on a second look this much later: an editor that truncates before it
 * writes, a file renamed away and back, or a half-copied file must not delete VMs.
 */
const CONFIRM_REMOVAL_MS = 400;

/** How often the watched directory itself is looked at (gone, back, replaced). */
const ROOT_CHECK_MS = 1000;

/** Identity of a file's content as far as stat can tell. */
function version(s: { mtimeMs: number; size: number; ino: number }): string {
  return `${s.ino}/${s.size}/${s.mtimeMs}`;
}

interface Declaration {
  resource: DeclaredResource;
  line: number;
}

export interface DirectorySourceOptions {
  dir: string;
  store: DesiredStore;
  logger: Logger;
  /** What was stored for a key by an earlier run: its uid, generation and last good spec. */
  previous: (key: ResourceKey) => Resource<unknown, unknown> | undefined;
  /** Every object stored by an earlier run, to recover the last good state of files broken at start. */
  storedObjects: () => Resource<unknown, unknown>[];
  /** An empty directory may delete every VM (Argo CD's allowEmpty); by default it deletes nothing. */
  allowEmpty?: boolean;
  /** How long a changed file must stay unchanged before it is read (default DEFAULT_SETTLE_MS). */
  settleMs?: number;
  now?: () => Date;
}

export class DirectorySource implements AbsenceWitness {
  private readonly root: string;
  private watcher: DirectoryWatch | undefined;
  /** Paths with events before the first read completed (and whether their last event said complete): looked at again once it has. */
  private readonly early = new Map<string, boolean>();
  /** The last good declarations of each file (relative path). */
  private readonly files = new Map<string, Map<ResourceKey, Declaration>>();
  /** Files whose current content is broken, with why. */
  private readonly fileErrors = new Map<string, ManifestError[]>();
  /** Which files declare each key. */
  private readonly declaredIn = new Map<ResourceKey, Set<string>>();
  /** Per-file chain, so that two events for one file are handled in order. */
  private readonly pending = new Map<string, Promise<void>>();
  /** The stat of the content last read, per file. */
  private readonly readVersions = new Map<string, string>();
  private readonly rechecks = new Set<NodeJS.Timeout>();
  private synced = false;
  private syncedAt = '';
  /** When the watched directory was found gone (until it is back and read again). */
  private lostSince: string | undefined;
  private rootIno = 0;
  private rootTimer: NodeJS.Timeout | undefined;
  private rewatching = false;
  /** Keys whose removal was seen in a file that read well (or a file deleted), with what was seen. */
  private readonly removed = new Map<ResourceKey, string>();
  private readonly now: () => Date;
  /** Changed files wait here until it is time to read them: a complete file at once, the rest once quiet. */
  private readonly changes: ChangedFiles;

  constructor(private readonly opts: DirectorySourceOptions) {
    this.root = resolve(opts.dir);
    this.now = opts.now ?? (() => new Date());
    // A file never read (no version of it read) can only add declarations when it is read.
    const isNew = (path: string) => !this.readVersions.has(relative(this.root, path));
    this.changes = new ChangedFiles(opts.settleMs ?? DEFAULT_SETTLE_MS, (path) => this.schedule(path, 'change'), isNew);
  }

  /** Starts watching; resolves once every file present at start has been read. */
  async start(): Promise<void> {
    if (!existsSync(this.root)) throw new Error(`watched directory ${this.root} does not exist`);
    this.rootIno = statSync(this.root).ino;
    if (!this.rootTimer) {
      this.rootTimer = setInterval(() => this.checkRoot(), ROOT_CHECK_MS);
      this.rootTimer.unref();
    }
    this.early.clear();
    warmManifestParser(); // loads while the directory is listed (FileMode started it earlier still)
    this.watcher = new DirectoryWatch(this.root, {
      // Dot files and folders are editors' and tools' (.git, .#x.yaml, .x.yaml.swp).
      ignored: (path, isFile) => basename(path).startsWith('.') && path !== this.root || (isFile && !MANIFEST_FILE.test(path)),
      changed: (path, complete) => (this.synced ? this.changed(path, complete) : this.early.set(path, complete)),
      removed: (path) => (this.synced ? this.removedFile(path) : this.early.set(path, false)),
      rootGone: () => { if (this.synced) this.awaitReturn(); },
      error: (err) => this.opts.logger.error('watch error', { dir: this.root, error: errorMessage(err) }),
    });
    const initial = this.watcher.start();
    const files = initial.filter((p) => MANIFEST_FILE.test(p));
    await Promise.all(files.map((p) => this.load(p, true)));
    // Duplicates are judged with every file read: no declaration wins for having been read first.
    for (const key of this.declaredIn.keys()) this.recompute(key);
    // Watched again after the directory came back: files that did not come back with it are gone.
    const present = new Set(files.map((p) => relative(this.root, p)));
    for (const rel of [...this.files.keys()].filter((f) => !present.has(f))) this.unlink(rel);
    this.synced = true;
    this.syncedAt = this.now().toISOString();
    // Changes made while the initial read ran: looked at again now (a removal gets its second look).
    for (const [path, complete] of this.early) (existsSync(path) ? this.changed(path, complete) : this.removedFile(path));
    this.early.clear();
    for (const path of files) this.recheckLater(path, relative(this.root, path));
    this.opts.logger.info('directory source synced', { dir: this.root, files: this.files.size, resources: this.opts.store.size });
  }

  async stop(): Promise<void> {
    this.synced = false; // a stopped source vouches for nothing
    clearInterval(this.rootTimer);
    this.rootTimer = undefined;
    for (const timer of this.rechecks) clearTimeout(timer);
    this.rechecks.clear();
    this.changes.stop();
    this.watcher?.close();
    await Promise.all(this.pending.values());
  }

  /** The deletion gate's question: is this resource's declaration known to be deleted? */
  absence(key: ResourceKey): Absence {
    const blocked = this.blocked();
    if (blocked) return { confirmed: false, why: blocked };
    if (this.declaredIn.has(key)) return { confirmed: false, why: 'it is still declared' };
    if (this.declaredIn.size === 0 && !this.opts.allowEmpty) {
      return { confirmed: false, why: `the directory ${this.root} declares no resources, and an empty read deletes nothing (run with --allow-empty to let it)` };
    }
    // A declaration cut from one file and pasted into a broken one is not a deletion.
    const broken = [...this.fileErrors.values()].flat();
    if (broken.length) {
      return { confirmed: false, why: `${this.fileErrors.size} file(s) in ${this.root} cannot be read (${formatManifestError(broken[0]!)}), and it may be declared there` };
    }
    return { confirmed: true, evidence: this.removed.get(key) ?? `not declared in ${this.root}, read completely at ${this.syncedAt}` };
  }

  blocked(): string | undefined {
    if (this.lostSince || !existsSync(this.root)) return `the watched directory ${this.root} is gone${this.lostSince ? ` (since ${this.lostSince})` : ''}`;
    if (!this.synced) return `the directory ${this.root} has not been read completely yet`;
    return undefined;
  }

  /**
   * A watch does not follow the watched directory when it comes back (a remount) and may not
   * report that it vanished: look every second; once it is back, watch it afresh and read it
   * completely again.
   */
  private checkRoot(): void {
    if (this.rewatching) return;
    if (this.lostSince) {
      if (existsSync(this.root)) void this.rewatch();
      return;
    }
    if (this.synced && !this.sameRoot()) this.awaitReturn();
  }

  private awaitReturn(): void {
    if (this.lostSince) return;
    this.lostSince = this.now().toISOString();
    this.opts.logger.error('watched directory is gone; keeping every resource as it was until it is back', { dir: this.root });
  }

  private async rewatch(): Promise<void> {
    this.rewatching = true;
    this.opts.logger.info('watched directory is back; reading it again', { dir: this.root });
    this.synced = false;
    try {
      this.watcher?.close();
      await this.start();
      this.lostSince = undefined;
    } catch (err) {
      this.opts.logger.error('cannot watch the directory again; retrying', { dir: this.root, error: errorMessage(err) });
    } finally {
      this.rewatching = false;
    }
  }

  /** Whether the directory watched is still there, the same one (a directory made anew is not watched). */
  private sameRoot(): boolean {
    try {
      return statSync(this.root).ino === this.rootIno;
    } catch {
      return false;
    }
  }

  /** Files whose current content is broken, with their errors. */
  errors(): ManifestError[] {
    return [...this.fileErrors.values()].flat();
  }

  /** Resolves when every file event seen so far has been handled. Tests use it. */
  async settled(): Promise<void> {
    while (this.pending.size || this.changes.isBusy()) {
      await this.changes.idle();
      await Promise.all(this.pending.values());
    }
  }

  /** A file changed: read at once when complete and alone (or among new files only), else once quiet (changed-files.ts). */
  private changed(path: string, complete: boolean): void {
    if (!MANIFEST_FILE.test(path)) return;
    this.changes.seen(path, complete);
    warmManifestParser(); // a stopped parser starts while the file waits, not after
  }

  /** A file is gone: its resources leave on a second look; the removal also makes a change span several files. */
  private removedFile(path: string): void {
    if (!MANIFEST_FILE.test(path)) return;
    this.changes.removed(path);
    this.schedule(path, 'unlink');
  }

  private schedule(path: string, event: 'change' | 'unlink' | 'confirm'): void {
    if (!MANIFEST_FILE.test(path)) return;
    const rel = relative(this.root, path);
    const previous = this.pending.get(rel) ?? Promise.resolve();
    const handle = () => {
      if (event === 'change') return this.load(path, false, false);
      if (event === 'unlink') return this.confirmLater(path);
      // The second look: the file as it is now decides, removals included; a file being
      // written again is read once it is quiet (what leaves then gets its own second look).
      if (this.changes.isWaiting(path)) return;
      // A declaration cut from this file may be on its way into one still being written.
      if (this.changes.isBusy()) return this.confirmLater(path);
      return existsSync(path) ? this.load(path, false, true) : this.unlink(rel);
    };
    const next = previous
      .then(handle)
      .catch((err) => this.opts.logger.error('failed to handle a file event', { file: rel, error: errorMessage(err) }))
      .finally(() => {
        if (this.pending.get(rel) === next) this.pending.delete(rel);
      });
    this.pending.set(rel, next);
  }

  private confirmLater(path: string): void {
    const timer = setTimeout(() => {
      this.rechecks.delete(timer);
      this.schedule(path, 'confirm');
    }, CONFIRM_REMOVAL_MS);
    timer.unref();
    this.rechecks.add(timer);
  }

  private async load(path: string, initial: boolean, confirmed = false): Promise<void> {
    const rel = relative(this.root, path);
    let text: string | undefined;
    try {
      // Manifests are small: a synchronous read costs less than four thread-pool round trips,
      // which matters when a thousand files are read at start.
      const fd = openSync(path, 'r');
      try {
        const stats = fstatSync(fd);
        this.readVersions.set(rel, version(stats));
        // Too large to parse is too large to read: a 10 GB file must not fill memory.
        text = stats.size > MAX_MANIFEST_BYTES ? undefined : readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
      if (this.synced) this.recheckLater(path, rel);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // gone again; its unlink event follows
      return this.broken(rel, [{ file: rel, line: 1, message: `cannot read: ${errorMessage(err)}` }], initial);
    }
    // Off the event loop, within a time budget and a heap limit: nothing a file holds stalls the controller.
    const { resources, errors, warnings } = text === undefined
      ? { resources: [], errors: [{ file: rel, ...FILE_TOO_LARGE }], warnings: [] }
      : await parseManifestsOffThread(text, rel);
    for (const w of warnings ?? []) this.opts.logger.warn(`manifest warning: ${formatManifestError(w)}`, { file: rel, line: w.line });
    if (errors.length) return this.broken(rel, errors, initial);

    const hadErrors = this.fileErrors.delete(rel);
    if (hadErrors) this.opts.logger.info('file is valid again', { file: rel });
    const before = this.files.get(rel) ?? new Map<ResourceKey, Declaration>();
    const after = new Map(resources.map((r) => [r.key, { resource: r.resource, line: r.line }] as const));
    const leaving = [...before.keys()].filter((key) => !after.has(key));
    if (leaving.length && !confirmed) {
      // Keep what leaves until a second look confirms it; apply the rest now.
      for (const key of leaving) after.set(key, before.get(key)!);
      this.confirmLater(path);
    }
    this.files.set(rel, after);
    for (const key of before.keys()) {
      if (after.has(key)) continue;
      this.undeclare(key, rel);
      if (!this.declaredIn.has(key)) this.removed.set(key, `its declaration was removed from ${rel}`);
    }
    for (const key of after.keys()) this.declare(key, rel);
    if (initial) return; // start() judges every key once all files are read
    for (const key of new Set([...before.keys(), ...after.keys()])) this.recompute(key);
  }

  private recheckLater(path: string, rel: string): void {
    const timer = setTimeout(() => {
      this.rechecks.delete(timer);
      stat(path).then(
        (s) => { if (this.readVersions.get(rel) !== version(s)) this.changed(path, false); },
        () => { /* removed: the unlink event handles it */ },
      );
    }, RECHECK_MS);
    timer.unref();
    this.rechecks.add(timer);
  }

  private unlink(rel: string): void {
    if (!this.sameRoot()) {
      // The whole directory vanished (unmounted, moved): not a decision to delete every VM.
      this.awaitReturn();
      return;
    }
    const before = this.files.get(rel);
    this.files.delete(rel);
    this.fileErrors.delete(rel);
    this.readVersions.delete(rel);
    if (!before) return;
    this.opts.logger.info('file removed', { file: rel, resources: before.size });
    for (const key of before.keys()) {
      this.undeclare(key, rel);
      if (!this.declaredIn.has(key)) this.removed.set(key, `the file ${rel} that declared it was deleted`);
      this.recompute(key);
    }
  }

  private broken(rel: string, errors: ManifestError[], initial: boolean): void {
    this.fileErrors.set(rel, errors);
    for (const e of errors) this.opts.logger.error(`invalid manifest: ${formatManifestError(e)}`, { file: rel, line: e.line });
    if (initial && !this.files.has(rel)) this.recoverLastGood(rel);
    if (initial) return;
    for (const key of this.files.get(rel)?.keys() ?? []) this.recompute(key);
  }

  /** A file broken at start: its resources keep the state an earlier run last applied. */
  private recoverLastGood(rel: string): void {
    const recovered = new Map<ResourceKey, Declaration>();
    for (const object of this.opts.storedObjects()) {
      const source = object.metadata.annotations?.[SOURCE_ANNOTATION];
      if (!source || source.slice(0, source.lastIndexOf(':')) !== rel) continue;
      const { name, namespace, labels, annotations } = object.metadata;
      const key = `${object.kind}/${namespace}/${name}`;
      recovered.set(key, {
        resource: { apiVersion: object.apiVersion, kind: object.kind, metadata: { name, namespace, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) }, spec: object.spec as Record<string, unknown> },
        line: Number(source.slice(source.lastIndexOf(':') + 1)) || 1,
      });
    }
    if (!recovered.size) return;
    this.opts.logger.warn('keeping the last good state of a file that is broken at start', { file: rel, resources: recovered.size });
    this.files.set(rel, recovered);
    for (const key of recovered.keys()) this.declare(key, rel);
  }

  private declare(key: ResourceKey, rel: string): void {
    this.removed.delete(key);
    let set = this.declaredIn.get(key);
    if (!set) this.declaredIn.set(key, (set = new Set()));
    set.add(rel);
  }

  private undeclare(key: ResourceKey, rel: string): void {
    const set = this.declaredIn.get(key);
    set?.delete(rel);
    if (set && set.size === 0) this.declaredIn.delete(key);
  }

  private recompute(key: ResourceKey): void {
    const { store } = this.opts;
    let where = [...(this.declaredIn.get(key) ?? [])];
    if (where.length === 0) {
      store.setProblem(key, undefined);
      store.delete(key);
      return;
    }
    // A file deleted whose removal awaits its second look does not make a duplicate of a
    // declaration moved to another file (git mv, a rename).
    if (where.length > 1) {
      const present = where.filter((rel) => existsSync(resolve(this.root, rel)));
      if (present.length) where = present;
    }
    if (where.length > 1) {
      const places = where.sort().map((rel) => `${rel}:${this.files.get(rel)!.get(key)!.line}`);
      for (const place of places) this.opts.logger.error(`duplicate declaration of ${key}`, { at: place, alsoAt: places.filter((p) => p !== place) });
      store.setProblem(key, duplicateDeclarationProblem(places));
      return;
    }
    const rel = where[0]!;
    const declaration = this.files.get(rel)!.get(key)!;
    this.upsert(key, declaration, rel);
    const errors = this.fileErrors.get(rel);
    store.setProblem(key, errors
      ? { reason: 'InvalidManifest', message: `${errors.map(formatManifestError).join('; ')} (the last good declaration stays in force)` }
      : undefined);
  }

  /** Gives the declaration a Kubernetes identity: uid and creation kept, generation bumped on spec change. */
  private upsert(key: ResourceKey, declaration: Declaration, rel: string): void {
    const { resource, line } = declaration;
    const current = this.opts.store.get(key) ?? this.opts.previous(key);
    const specChanged = !current || stableStringify(current.spec) !== stableStringify(resource.spec);
    const annotations = { ...resource.metadata.annotations, [SOURCE_ANNOTATION]: `${rel}:${line}` };
    const object: Resource<unknown, unknown> = {
      apiVersion: resource.apiVersion,
      kind: resource.kind,
      metadata: {
        name: resource.metadata.name,
        namespace: resource.metadata.namespace,
        uid: current?.metadata.uid ?? randomUUID(),
        generation: (current?.metadata.generation ?? 0) + (specChanged ? 1 : 0),
        creationTimestamp: current?.metadata.creationTimestamp ?? this.now().toISOString(),
        ...(resource.metadata.labels ? { labels: resource.metadata.labels } : {}),
        annotations,
      },
      spec: resource.spec,
    };
    const inStore = this.opts.store.get(key);
    if (inStore && stableStringify(inStore.metadata) === stableStringify(object.metadata) && !specChanged) return;
    this.opts.store.set(key, object);
  }
}
