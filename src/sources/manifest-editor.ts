// Declarative edits of the watched directory, for the CLI and the legacy HTTP API: find the
// document that declares a resource, change fields in place (other documents, comments and
// formatting kept), add documents, remove them. Writes are atomic (temp file + rename), so the
// directory source sees one change and never a half-written file.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseAllDocuments, stringify, type Document } from 'yaml';
import { DEFAULT_NAMESPACE, resourceKey, type ResourceKey } from '../api/meta.js';
import { validateResource } from '../api/schema.js';
import { parseManifestFile, parseManifestsOffThread } from './manifest-parse-pool.js';
import { formatManifestError, type ManifestError, type ParsedFile } from './manifest-parser.js';

const MANIFEST_FILE = /\.ya?ml$/;

export class ManifestEditError extends Error {
  constructor(message: string, readonly code: 'NotFound' | 'Invalid' | 'Conflict') {
    super(message);
    this.name = 'ManifestEditError';
  }
}

export interface Declaration {
  /** Path relative to the directory. */
  file: string;
  /** Index of the document in the file. */
  index: number;
}

/** The YAML library writes warnings to stderr unless told not to; the bounded parser reports them. */
const QUIET = { logLevel: 'error' } as const;

/** The key a document declares, if it reads as a resource (aliases bounded, as the parser's). */
function keyOfDocument(doc: Document): ResourceKey | undefined {
  let js: { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
  try {
    js = doc.toJS({ maxAliasCount: 100 });
  } catch {
    return undefined;
  }
  if (!js || typeof js.kind !== 'string' || typeof js.metadata?.name !== 'string') return undefined;
  return resourceKey(js.kind, typeof js.metadata.namespace === 'string' ? js.metadata.namespace : DEFAULT_NAMESPACE, js.metadata.name);
}

/** "namespace/name" of a key, as messages show it. */
function describeKey(key: ResourceKey): string {
  return key.split('/').slice(1).join('/');
}

/**
 * Writes `text` to `path` atomically (temp file + rename). An existing file keeps its mode (and
 * its owner, when we may set it); a symlink stays a symlink and its target gets the new text.
 */
export function atomicWrite(path: string, text: string): void {
  let target = path;
  let kept: { mode: number; uid: number; gid: number } | undefined;
  try {
    target = realpathSync(path);
    const stats = statSync(target);
    kept = { mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // a new file
  }
  const tmp = join(dirname(target), `.${randomBytes(6).toString('hex')}.wimaxvm-tmp`);
  try {
    // Created with the final mode: a 0600 file's content is never readable by others, even briefly.
    writeFileSync(tmp, text, { flag: 'wx', mode: kept?.mode ?? 0o666 });
    if (kept) {
      chmodSync(tmp, kept.mode); // the umask narrowed it
      if (process.getuid?.() === 0) chownSync(tmp, kept.uid, kept.gid);
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export class ManifestEditor {
  constructor(readonly dir: string) {}

  /** Every manifest file below the directory (dot files and folders skipped, like the source). */
  files(): string[] {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        if (name.startsWith('.')) continue;
        const path = join(dir, name);
        const stat = statSync(path);
        if (stat.isDirectory()) walk(path);
        else if (MANIFEST_FILE.test(name)) out.push(relative(this.dir, path));
      }
    };
    walk(this.dir);
    return out.sort();
  }

  /**
   * Where `key` is declared; `hint` ("file:line", the source annotation) is tried first. Every
   * file is read by the bounded parser (off the event loop): a hostile file elsewhere in the
   * directory costs this search nothing but its own parse. Broken files are collected in
   * `broken`, where given.
   */
  async find(key: ResourceKey, hint?: string, broken?: ManifestError[]): Promise<Declaration | undefined> {
    const hinted = hint ? hint.slice(0, hint.lastIndexOf(':')) : undefined;
    const candidates = hinted ? [hinted, ...this.files().filter((f) => f !== hinted)] : this.files();
    for (const file of candidates) {
      let parsed: ParsedFile;
      try {
        parsed = await parseManifestFile(join(this.dir, file), file);
      } catch {
        continue; // gone meanwhile, or unreadable: it declares nothing we could edit
      }
      broken?.push(...parsed.errors);
      if (!parsed.resources.some((r) => r.key === key)) continue;
      if (parsed.errors.length) {
        throw new ManifestEditError(`${file} declares ${describeKey(key)} but is broken, so it is not edited: ${parsed.errors.map(formatManifestError).join('; ')}`, 'Invalid');
      }
      // The file passed the parser's limits: reading it here again is bounded.
      const docs = parseAllDocuments(readFileSync(join(this.dir, file), 'utf8'), QUIET) as Document[];
      const index = docs.findIndex((d) => !d.errors.length && keyOfDocument(d) === key);
      if (index >= 0) return { file, index };
    }
    return undefined;
  }

  private async mustFind(key: ResourceKey, hint?: string): Promise<Declaration> {
    const broken: ManifestError[] = [];
    const found = await this.find(key, hint, broken);
    if (found) return found;
    const maybe = broken.length ? ` (it may be declared in a file that does not read: ${formatManifestError(broken[0]!)})` : '';
    throw new ManifestEditError(`${describeKey(key)} is not declared in ${this.dir}${maybe}`, 'NotFound');
  }

  /**
   * Sets fields of the document declaring `key` (paths like ['spec', 'runStrategy']); `undefined`
   * removes the field. The result must validate, or nothing is written.
   */
  async update(key: ResourceKey, changes: { path: (string | number)[]; value: unknown }[], hint?: string): Promise<Declaration> {
    const found = await this.mustFind(key, hint);
    const path = join(this.dir, found.file);
    const docs = parseAllDocuments(readFileSync(path, 'utf8'), QUIET) as Document[];
    const doc = docs[found.index]!;
    for (const change of changes) {
      if (change.value === undefined) doc.deleteIn(change.path);
      else doc.setIn(change.path, change.value);
    }
    await this.check(docs.map((d) => d.toString()).join(''), found.file);
    atomicWrite(path, docs.map((d, i) => (i > 0 && !d.toString().startsWith('---') ? `---\n${d}` : String(d))).join(''));
    return found;
  }

  /** Adds a resource as a new file `<file>` (refused if the resource is declared already). */
  async create(object: Record<string, unknown>, file: string): Promise<Declaration> {
    const check = validateResource(object);
    if (!check.ok) throw new ManifestEditError(check.errors.map((e) => e.message).join('; '), 'Invalid');
    const { kind, metadata } = check.resource;
    const key = resourceKey(kind, metadata.namespace, metadata.name);
    if (await this.find(key)) throw new ManifestEditError(`${kind} ${metadata.namespace}/${metadata.name} is already declared`, 'Conflict');
    const path = join(this.dir, file);
    try {
      statSync(path);
      throw new ManifestEditError(`${file} exists already`, 'Conflict');
    } catch (err) {
      if (err instanceof ManifestEditError) throw err;
    }
    const text = stringify(object);
    await this.check(text, file); // the limits the directory source will apply (size, nesting)
    atomicWrite(path, text);
    return { file, index: 0 };
  }

  /** Removes the document declaring `key`; the file goes with its last document. */
  async remove(key: ResourceKey, hint?: string): Promise<Declaration> {
    const found = await this.mustFind(key, hint);
    const path = join(this.dir, found.file);
    const docs = (parseAllDocuments(readFileSync(path, 'utf8'), QUIET) as Document[]).filter((d) => d.contents !== null);
    const rest = docs.filter((_, i) => i !== found.index);
    if (rest.every((d) => keyOfDocument(d) === undefined)) rmSync(path);
    else atomicWrite(path, rest.map((d, i) => (i > 0 ? `---\n${String(d).replace(/^---\n/, '')}` : String(d))).join(''));
    return found;
  }

  private async check(text: string, file: string): Promise<void> {
    const { errors } = await parseManifestsOffThread(text, file);
    if (errors.length) throw new ManifestEditError(errors.map(formatManifestError).join('; '), 'Invalid');
  }
}
