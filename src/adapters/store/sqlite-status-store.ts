// File mode's StatusStore on the state database. Reads are served from memory, loaded once at
// open (the reconcilers ask on every pass); a write commits first and only then updates memory,
// so a failed write (disk full, read-only) leaves memory as the disk is and the retry writes again.
// A database removed while the controller runs is recreated at the next write, with everything
// this store holds.
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

  constructor(private readonly state: StateDatabase, private readonly now: () => number = Date.now) {
    state.onRecreated(() => this.rewriteAll());
    for (const row of state.statement<[], ObjectRow>('SELECT kind, namespace, name, body FROM objects').all()) {
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
    this.run(`store the status of ${key}`, () => {
      this.state.recreateIfRemoved();
      this.upsert(kind, namespace, name, copy);
    });
    this.remember(key, copy);
  }

  /** Many objects in one transaction (status.traffic's round): one commit instead of one each. */
  async writeMany(objects: [ResourceKey, Resource<unknown, unknown>][]): Promise<void> {
    const copies = objects.map(([key, object]) => [key, structuredClone(object) as Resource<unknown, any>] as const);
    this.run(`store ${copies.length} statuses`, () => {
      this.state.recreateIfRemoved();
      this.state.db.transaction(() => {
        for (const [key, copy] of copies) {
          const { kind, namespace, name } = parseResourceKey(key);
          this.upsert(kind, namespace, name, copy);
        }
      }).immediate();
    });
    for (const [key, copy] of copies) this.remember(key, copy);
  }

  async remove(key: ResourceKey): Promise<void> {
    const { kind, namespace, name } = parseResourceKey(key);
    this.run(`remove the status of ${key}`, () => {
      this.state.recreateIfRemoved();
      this.state.statement('DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?').run(kind, namespace, name);
    });
    this.byKind.get(kind)?.delete(key);
  }

  private upsert(kind: string, namespace: string, name: string, object: Resource<unknown, any>): void {
    this.state.statement('INSERT INTO objects (kind, namespace, name, body, written_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, namespace, name) DO UPDATE SET body = excluded.body, written_at = excluded.written_at')
      .run(kind, namespace, name, JSON.stringify(object), this.now());
  }

  /** A fresh database gets everything at once. */
  private rewriteAll(): void {
    this.state.db.transaction(() => {
      for (const objects of this.byKind.values()) {
        for (const [key, object] of objects) {
          const { kind, namespace, name } = parseResourceKey(key);
          this.upsert(kind, namespace, name, object);
        }
      }
    }).immediate();
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
