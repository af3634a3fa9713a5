// Declarative edits of the watched directory, for the CLI and the legacy HTTP API: find the
// document that declares a resource, change fields in place (other documents, comments and
// formatting kept), add documents, remove them. Writes are atomic (temp file + rename), so the
// directory source sees one change and never a half-written file.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments, stringify, type Document } from 'yaml';
import { DEFAULT_NAMESPACE, resourceKey, type ResourceKey } from '../api/meta.js';
import { validateResource } from '../api/schema.js';
import { formatManifestError, parseManifests } from './manifest-parser.js';

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

function keyOfDocument(doc: Document): ResourceKey | undefined {
  const js = doc.toJS() as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
  if (!js || typeof js.kind !== 'string' || typeof js.metadata?.name !== 'string') return undefined;
  return resourceKey(js.kind, typeof js.metadata.namespace === 'string' ? js.metadata.namespace : DEFAULT_NAMESPACE, js.metadata.name);
}

/** Writes `text` to `path` atomically. */
export function atomicWrite(path: string, text: string): void {
  const tmp = join(path, '..', `.${randomBytes(6).toString('hex')}.wimaxvm-tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, path);
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

  /** Where `key` is declared; `hint` ("file:line", the source annotation) is tried first. */
  find(key: ResourceKey, hint?: string): Declaration | undefined {
    const hinted = hint ? hint.slice(0, hint.lastIndexOf(':')) : undefined;
    const candidates = hinted ? [hinted, ...this.files().filter((f) => f !== hinted)] : this.files();
    for (const file of candidates) {
      let docs: Document[];
      try {
        docs = parseAllDocuments(readFileSync(join(this.dir, file), 'utf8')) as Document[];
      } catch {
        continue;
      }
      const index = docs.findIndex((d) => !d.errors.length && keyOfDocument(d) === key);
      if (index >= 0) return { file, index };
    }
    return undefined;
  }

  /**
   * Sets fields of the document declaring `key` (paths like ['spec', 'runStrategy']); `undefined`
   * removes the field. The result must validate, or nothing is written.
   */
  update(key: ResourceKey, changes: { path: (string | number)[]; value: unknown }[], hint?: string): Declaration {
    const found = this.find(key, hint);
    if (!found) throw new ManifestEditError(`${key.split('/').slice(1).join('/')} is not declared in ${this.dir}`, 'NotFound');
    const path = join(this.dir, found.file);
    const docs = parseAllDocuments(readFileSync(path, 'utf8')) as Document[];
    const doc = docs[found.index]!;
    for (const change of changes) {
      if (change.value === undefined) doc.deleteIn(change.path);
      else doc.setIn(change.path, change.value);
    }
    this.check(docs.map((d) => d.toString()).join(''), found.file);
    atomicWrite(path, docs.map((d, i) => (i > 0 && !d.toString().startsWith('---') ? `---\n${d}` : String(d))).join(''));
    return found;
  }

  /** Adds a resource as a new file `<file>` (refused if the resource is declared already). */
  create(object: Record<string, unknown>, file: string): Declaration {
    const check = validateResource(object);
    if (!check.ok) throw new ManifestEditError(check.errors.map((e) => e.message).join('; '), 'Invalid');
    const { kind, metadata } = check.resource;
    const key = resourceKey(kind, metadata.namespace, metadata.name);
    if (this.find(key)) throw new ManifestEditError(`${kind} ${metadata.namespace}/${metadata.name} is already declared`, 'Conflict');
    const path = join(this.dir, file);
    try {
      statSync(path);
      throw new ManifestEditError(`${file} exists already`, 'Conflict');
    } catch (err) {
      if (err instanceof ManifestEditError) throw err;
    }
    atomicWrite(path, stringify(object));
    return { file, index: 0 };
  }

  /** Removes the document declaring `key`; the file goes with its last document. */
  remove(key: ResourceKey, hint?: string): Declaration {
    const found = this.find(key, hint);
    if (!found) throw new ManifestEditError(`${key.split('/').slice(1).join('/')} is not declared in ${this.dir}`, 'NotFound');
    const path = join(this.dir, found.file);
    const docs = (parseAllDocuments(readFileSync(path, 'utf8')) as Document[]).filter((d) => d.contents !== null);
    const rest = docs.filter((_, i) => i !== found.index);
    if (rest.every((d) => keyOfDocument(d) === undefined)) rmSync(path);
    else atomicWrite(path, rest.map((d, i) => (i > 0 ? `---\n${String(d).replace(/^---\n/, '')}` : String(d))).join(''));
    return found;
  }

  private check(text: string, file: string): void {
    const { errors } = parseManifests(text, file);
    if (errors.length) throw new ManifestEditError(errors.map(formatManifestError).join('; '), 'Invalid');
  }
}
