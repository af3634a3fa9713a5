// Where `get` finds the objects of a kind: VMs and stations in the controller's state database
// (with their status), shaping policies, which have no status, in their declarations in the
// watched directory. Each listing also says cheaply whether anything may have changed, for -w.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '../api/meta.js';
import { StateReader } from '../adapters/store/state-reader.js';
import { stateDbPath } from '../adapters/store/state-database.js';
import { SOURCE_ANNOTATION } from '../sources/directory-source.js';
import { ManifestEditor } from '../sources/manifest-editor.js';
import { parseManifests } from '../sources/manifest-parser.js';
import { matches, type Selector } from './selectors.js';

export interface Query {
  kind: string;
  /** undefined: every namespace. */
  namespace?: string | undefined;
  name?: string | undefined;
  selector: Selector;
}

export interface Listing {
  list(): Resource<any, any>[];
  /** Changes whenever list() may answer differently; comparing it costs one query or a few stats. */
  changeToken(): string;
  close(): void;
}

const selected = (query: Query) => (o: Resource<unknown, unknown>) => matches(query.selector, o.metadata.labels);

/** Objects the controller stored; the database may appear, or be recreated, while a watch runs. */
export function storedListing(stateDir: string, query: Query): Listing {
  let reader: StateReader | undefined;
  let readerOf = '';
  const dbIdentity = () => {
    try {
      return String(statSync(stateDbPath(stateDir)).ino);
    } catch {
      return 'none';
    }
  };
  const current = () => {
    const identity = dbIdentity();
    if (identity !== readerOf || !reader) {
      reader?.close();
      reader = identity === 'none' ? undefined : StateReader.open(stateDir);
      readerOf = reader ? identity : 'none';
    }
    return reader;
  };
  return {
    list: () => (current()?.objects(query.kind, query.namespace, query.name) ?? []).filter(selected(query)),
    changeToken: () => {
      const r = current();
      return r ? `${readerOf}:${r.changeCounter()}` : 'none';
    },
    close: () => reader?.close(),
  };
}

/** Declarations of `query.kind` in the watched directory, as the controller reads them (invalid files skipped). */
export function declaredListing(dir: string, query: Query): Listing {
  const editor = new ManifestEditor(dir);
  return {
    list: () => editor.files().flatMap((file) => {
      const text = readIfPresent(join(dir, file));
      if (text === undefined) return [];
      const { resources } = parseManifests(text, file);
      return resources
        .filter(({ resource: r }) => r.kind === query.kind && (query.namespace === undefined || r.metadata.namespace === query.namespace)
          && (query.name === undefined || r.metadata.name === query.name))
        .map(({ resource: r, line }) => ({
          ...r, metadata: { ...r.metadata, annotations: { ...r.metadata.annotations, [SOURCE_ANNOTATION]: `${file}:${line}` } },
        }) as unknown as Resource<unknown, unknown>);
    }).filter(selected(query)).sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`)),
    changeToken: () => editor.files().map((file) => {
      const s = statSync(join(dir, file), { throwIfNoEntry: false });
      return s ? `${file}:${s.ino}:${s.size}:${s.mtimeMs}` : '';
    }).join('|'),
    close: () => {},
  };
}

/** A file removed between listing and reading is simply not there (a watch goes on). */
function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
}
