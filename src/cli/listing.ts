// Where `get` finds the objects of a kind: VMs and stations in the controller's state database
// (with their status), shaping policies, which have no status, in their declarations in the
// watched directory (declared-listing.ts). Each listing also says cheaply whether anything may
// have changed, for -w.
import { statSync } from 'node:fs';
import type { Resource } from '../api/meta.js';
import { StateReader } from '../adapters/store/state-reader.js';
import { stateDbPath } from '../adapters/store/state-database.js';
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
  /** The same objects one at a time, for a caller that needs each only briefly (a long table). */
  each(visit: (object: Resource<any, any>) => void): void;
  /** Changes whenever list() may answer differently; comparing it costs one query or a few stats. */
  changeToken(): string;
  close(): void;
}

export const selected = (query: Query) => (o: Resource<unknown, unknown>) => matches(query.selector, o.metadata.labels);

/**
 * Objects the controller stored; the database may appear, or be recreated, while a watch runs.
 * `opened`: a reader of `stateDir` the caller opened, which the listing takes over.
 */
export function storedListing(stateDir: string, query: Query, opened?: StateReader): Listing {
  let reader: StateReader | undefined;
  let readerOf = '';
  const dbIdentity = () => {
    try {
      return String(statSync(stateDbPath(stateDir)).ino);
    } catch {
      return 'none';
    }
  };
  if (opened) {
    reader = opened;
    readerOf = dbIdentity();
  }
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
    each: (visit) => {
      const wanted = selected(query);
      current()?.eachObject(query.kind, query.namespace, query.name, (o) => wanted(o) && visit(o));
    },
    changeToken: () => {
      const r = current();
      return r ? `${readerOf}:${r.changeCounter()}` : 'none';
    },
    close: () => reader?.close(),
  };
}
