// File mode's StatusStore on the state database. Reads are served from memory, loaded once at
// open (the reconcilers ask on every pass); a write commits first and only then updates memory,
// so a failed write (disk full, read-only) leaves memory as the disk is and the retry writes again.
import { parseResourceKey, resourceKey, type Resource, type ResourceKey } from '../../api/meta.js';
import { errorMessage } from '../../core/logger.js';
import type { StatusStore } from '../../ports/status-store.js';
import { StateStoreError, type StateDatabase } from './state-database.js';

interface ObjectRow {
  kind: string;
  namespace: string;
  name: string;
  body: string;
}

export class SqliteStatusStore implements StatusStore {
  private readonly byKind = new Map<string, Map<ResourceKey, Resource<unknown, any>>>();
  private readonly upsert;
  private readonly delete;

  constructor(private readonly state: StateDatabase, private readonly now: () => number = Date.now) {
    const { db } = state;
    this.upsert = db.prepare('INSERT INTO objects (kind, namespace, name, body, written_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, namespace, name) DO UPDATE SET body = excluded.body, written_at = excluded.written_at');
    this.delete = db.prepare('DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?');
    for (const row of db.prepare<[], ObjectRow>('SELECT kind, namespace, name, body FROM objects').all()) {
      try {
        this.remember(resourceKey(row.kind, row.namespace, row.name), JSON.parse(row.body) as Resource<unknown, any>);
      } catch {
        // A row that is not JSON (edited by hand): the next reconcile writes it again.
      }
    }
  }

  get(key: ResourceKey): Resource<unknown, any> | undefined {
    return this.byKind.get(parseResourceKey(key).kind)?.get(key);
  }

  list(kind: string): Resource<unknown, any>[] {
    return [...(this.byKind.get(kind)?.values() ?? [])];
  }

  // Synchronous underneath: one small commit in WAL mode costs less than a thread-pool round trip.
  async write(key: ResourceKey, object: Resource<unknown, unknown>): Promise<void> {
    const { kind, namespace, name } = parseResourceKey(key);
    const copy = structuredClone(object) as Resource<unknown, any>;
    this.run(`store the status of ${key}`, () => this.upsert.run(kind, namespace, name, JSON.stringify(copy), this.now()));
    this.remember(key, copy);
  }

  async remove(key: ResourceKey): Promise<void> {
    const { kind, namespace, name } = parseResourceKey(key);
    this.run(`remove the status of ${key}`, () => this.delete.run(kind, namespace, name));
    this.byKind.get(kind)?.delete(key);
  }

  private remember(key: ResourceKey, object: Resource<unknown, any>): void {
    const { kind } = parseResourceKey(key);
    let objects = this.byKind.get(kind);
    if (!objects) this.byKind.set(kind, (objects = new Map()));
    objects.set(key, object);
  }

  /** A failed statement becomes an ordinary Error: the reconcile fails and is retried with backoff. */
  private run(what: string, statement: () => unknown): void {
    try {
      statement();
    } catch (err) {
      throw new StateStoreError(`cannot ${what} in ${this.state.path}: ${errorMessage(err)}`, (err as { code?: string }).code);
    }
  }
}
