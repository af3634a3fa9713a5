// Turns the text of one YAML file (several documents allowed) into validated resources, or
// errors with file and line. Pure; shared by the directory source and `wimaxvm validate`.
import { createRequire } from 'node:module';
import { loadAll } from 'js-yaml';
import type * as Yaml from 'yaml';
import type { Document, LineCounter } from 'yaml';
import { resourceKey } from '../api/meta.js';
import { validateResource, type DeclaredResource, type FieldPath } from '../api/schema.js';
import { checkManifestLimits } from './manifest-limits.js';
import type { ManifestError } from './manifest-error.js';

export interface ParsedManifest {
  key: string;
  resource: DeclaredResource;
  line: number;
}

export { formatManifestError, type ManifestError } from './manifest-error.js';

let yamlLibrary: typeof Yaml | undefined;
/**
 * The yaml library, for the careful parser only: loaded (through its CommonJS build, so the
 * parse stays synchronous) the first time a file needs it. The common case (js-yaml, below)
 * never does, and loading it was a good part of a parse worker's start-up.
 */
function yaml(): typeof Yaml {
  yamlLibrary ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yamlLibrary;
}

/**
 * The line of the deepest field on `path` that exists in the document: the line of its key
 * where it has one (a block mapping's value starts on the next line).
 */
function lineOf(doc: Document, path: FieldPath, lines: LineCounter): number {
  for (let depth = path.length; depth >= 0; depth--) {
    if (depth > 0) {
      const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
      if (yaml().isMap(parent)) {
        const pair = parent.items.find((item) => yaml().isScalar(item.key) && item.key.value === path[depth - 1]);
        const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
        if (keyRange) return lines.linePos(keyRange[0]).line;
      }
    }
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lines.linePos(range[0]).line;
  }
  return 1;
}

/** Offsets of scalar keys that repeat an earlier key of their mapping, in one walk with a set per mapping. */
function duplicateKeys(doc: Document): number[] {
  const found: number[] = [];
  const pending: unknown[] = [doc.contents];
  while (pending.length) {
    const node = pending.pop();
    if (!yaml().isCollection(node)) continue;
    const seen = new Set<unknown>();
    for (const item of node.items as unknown[]) {
      if (yaml().isPair(item)) {
        if (yaml().isScalar(item.key)) {
          if (seen.has(item.key.value)) found.push(item.key.range?.[0] ?? 0);
          seen.add(item.key.value);
        }
        pending.push(item.key, item.value);
      } else {
        pending.push(item);
      }
    }
  }
  return found.sort((a, b) => a - b);
}

/** Where each document's content starts (1-based), from the document markers; undefined if unsure. */
function documentLines(text: string, count: number): number[] | undefined {
  const starts: number[] = [];
  let current: number | undefined;
  let sawMarker = false;
  const lines = text.split('\n');
  const close = () => {
    if (current !== undefined || sawMarker) starts.push(current ?? 0);
  };
  lines.forEach((line, i) => {
    if (/^---(\s|$)/.test(line)) {
      close();
      sawMarker = true;
      current = /^---\s*(#.*)?$/.test(line) ? undefined : i + 1;
      return;
    }
    if (current === undefined && line.trim() !== '' && !line.trimStart().startsWith('#') && !line.startsWith('%') && line !== '...') current = i + 1;
  });
  close();
  return starts.length === count ? starts : undefined;
}

/**
 * The common case, fast: every document parses and validates. Anything else (a YAML error, an
 * invalid resource, a duplicate, documents the markers do not account for) goes to the careful
 * parser below, which knows every node's line.
 */
function parseQuickly(text: string): ParsedManifest[] | undefined {
  // js-yaml has no limit on aliases: anchors go to the careful parser, which counts them.
  if (ANCHOR.test(text)) return undefined;
  let docs: unknown[];
  try {
    docs = loadAll(text);
  } catch {
    return undefined;
  }
  const lines = documentLines(text, docs.length);
  if (!lines) return undefined;
  const resources: ParsedManifest[] = [];
  const seen = new Set<string>();
  for (const [i, doc] of docs.entries()) {
    if (doc === null || doc === undefined) continue;
    const result = validateResource(doc);
    if (!result.ok || lines[i] === 0) return undefined;
    const { kind, metadata } = result.resource;
    const key = resourceKey(kind, metadata.namespace, metadata.name);
    if (seen.has(key)) return undefined;
    seen.add(key);
    resources.push({ key, resource: result.resource, line: lines[i]! });
  }
  return resources;
}

/** Anchors (&name) in a YAML text, roughly: a false positive only costs the careful parser. */
const ANCHOR = /(^|[\s[{,:-])&[^\s]/m;

/** Aliases expanded per document at most (the yaml library's guard against billion laughs). */
const MAX_ALIASES = 100;

/** A file reports at most this many errors (one more says how many were left out). */
export const MAX_ERRORS_PER_FILE = 20;

export interface ParsedFile {
  resources: ParsedManifest[];
  errors: ManifestError[];
  /** The YAML library's warnings (an unknown tag, say), for the caller's log: never written to stderr. */
  warnings?: ManifestError[];
}

/**
 * Synchronous, and up to seconds for a large or hostile file: the controller and the CLI call
 * it through parseManifestsOffThread (manifest-parse-pool.ts), which bounds its time and memory.
 */
export function parseManifests(text: string, file: string): ParsedFile {
  const limit = checkManifestLimits(text);
  if (limit) return { resources: [], errors: [{ file, ...limit }] };
  const quick = parseQuickly(text);
  if (quick) return { resources: quick, errors: [] };
  return parseManifestsCarefully(text, file);
}

/** Every document through the YAML AST: exact lines for every error. Exported for the tests. */
export function parseManifestsCarefully(text: string, file: string): ParsedFile {
  const lines = new (yaml().LineCounter)();
  // logLevel 'error': the library's warnings come back in `warnings`, never raw on stderr.
  // The library's own unique-key check compares every key with every other (minutes for 50,000
  // keys): duplicateKeys below does it in linear time.
  const docs = yaml().parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, logLevel: 'error' });
  const resources: ParsedManifest[] = [];
  const errors: ManifestError[] = [];
  const warnings: ManifestError[] = [];
  const docList = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    errors.push({ file, line: 1, message: 'not a YAML stream' });
  }
  const seen = new Map<string, number>();
  for (const doc of docList) {
    // Enough to act on; the rest (maybe thousands) would only flood the log.
    if (errors.length >= MAX_ERRORS_PER_FILE) {
      const last = errors[errors.length - 1]!;
      errors.push({ file, line: last.line, message: `the documents after this line are not checked; only the first ${MAX_ERRORS_PER_FILE} errors are shown` });
      break;
    }
    for (const w of doc.warnings.slice(0, MAX_ERRORS_PER_FILE)) {
      warnings.push({ file, line: lines.linePos(w.pos[0]).line, message: `YAML: ${w.message.split('\n')[0]}` });
    }
    if (doc.errors.length) {
      for (const err of doc.errors.slice(0, MAX_ERRORS_PER_FILE)) {
        errors.push({ file, line: lines.linePos(err.pos[0]).line, message: `YAML: ${err.message.split('\n')[0]}` });
      }
      continue;
    }
    const duplicates = duplicateKeys(doc);
    if (duplicates.length) {
      for (const offset of duplicates.slice(0, MAX_ERRORS_PER_FILE)) errors.push({ file, line: lines.linePos(offset).line, message: 'YAML: Map keys must be unique' });
      continue;
    }
    // An empty document (a trailing ---, or only comments) parses to a null scalar.
    if (doc.contents === null || (yaml().isScalar(doc.contents) && doc.contents.value === null)) continue;
    if (!yaml().isCollection(doc.contents)) {
      errors.push({ file, line: lineOf(doc, [], lines), message: 'a document must be a mapping (apiVersion, kind, metadata, spec)' });
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      // Unresolved aliases, alias cycles, too many aliases: an error of this document, with its line.
      errors.push({ file, line: lineOf(doc, [], lines), message: `YAML: ${(err as Error).message}` });
      continue;
    }
    const result = validateResource(value);
    if (!result.ok) {
      for (const e of result.errors.slice(0, MAX_ERRORS_PER_FILE)) errors.push({ file, line: lineOf(doc, e.path, lines), message: e.hint ? `${e.message} (${e.hint})` : e.message });
      continue;
    }
    const { kind, metadata } = result.resource;
    const key = resourceKey(kind, metadata.namespace, metadata.name);
    const line = lineOf(doc, [], lines);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      errors.push({ file, line, message: `${kind} ${metadata.namespace}/${metadata.name} is declared twice in this file (first at line ${earlier})` });
      continue;
    }
    seen.set(key, line);
    resources.push({ key, resource: result.resource, line });
  }
  return warnings.length ? { resources, errors, warnings } : { resources, errors };
}

