// File mode's StatusStore on the state database. Reads are served from memory, loaded once at
// open (the reconcilers ask on every pass); a write commits first and only then updates memory,
// so a failed write (disk full, read-only) leaves memory as the disk is and the retry writes again.
// Writes of one event-loop turn share one commit; a failed commit fails all of them. Memory
// holds the object parsed back from the stored JSON: exactly what a reopen would read.
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

  // The row runs at once in this turn's transaction (state-database.ts); memory follows its commit.
  async write(key: ResourceKey, object: Resource<unknown, unknown>): Promise<void> {
    const { kind, namespace, name } = parseResourceKey(key);
    let body = '';
    const upsert = () => this.upsert(kind, namespace, name, (body = JSON.stringify(object)));
    await this.commit(`store the status of ${key}`, upsert, () => this.remember(key, JSON.parse(body)));
  }

  /** Many objects in one go (status.traffic's round): all or none of them. */
  async writeMany(objects: [ResourceKey, Resource<unknown, unknown>][]): Promise<void> {
    let bodies: (readonly [ResourceKey, string])[] = [];
    const upsertAll = () => {
      bodies = objects.map(([key, object]) => [key, JSON.stringify(object)] as const);
      for (const [key, body] of bodies) {
        const { kind, namespace, name } = parseResourceKey(key);
        this.upsert(kind, namespace, name, body);
      }
    };
    // A savepoint inside the group: one refused row undoes the others of this call only.
    await this.commit(`store ${objects.length} statuses`, () => this.state.db.transaction(upsertAll)(), () => {
      for (const [key, body] of bodies) this.remember(key, JSON.parse(body));
    });
  }

  async remove(key: ResourceKey): Promise<void> {
    const { kind, namespace, name } = parseResourceKey(key);
    await this.commit(`remove the status of ${key}`,
      () => this.state.statement('DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?').run(kind, namespace, name),
      () => this.byKind.get(kind)?.delete(key));
  }

  private upsert(kind: string, namespace: string, name: string, body: string): void {
    this.state.statement('INSERT INTO objects (kind, namespace, name, body, written_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, namespace, name) DO UPDATE SET body = excluded.body, written_at = excluded.written_at')
      .run(kind, namespace, name, body, this.now());
  }

  /** A fresh database gets everything at once. */
  private rewriteAll(): void {
    this.state.db.transaction(() => {
      for (const objects of this.byKind.values()) {
        for (const [key, object] of objects) {
          const { kind, namespace, name } = parseResourceKey(key);
          this.upsert(kind, namespace, name, JSON.stringify(object));
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

  /** A failed write becomes an ordinary Error: the reconcile fails and is retried with backoff. */
  private async commit(what: string, statements: () => void, onCommit: () => void): Promise<void> {
    try {
      await this.state.write(statements, onCommit);
    } catch (err) {
      throw new StateStoreError(`cannot ${what} in ${this.state.path}: ${errorMessage(err)}`, (err as { code?: string }).code);
    }
  }
}
