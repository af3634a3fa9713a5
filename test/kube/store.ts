// The fake's etcd: objects by storage, one global revision counter that every write bumps
// (it becomes the object's resourceVersion), and a change feed for watches. It knows nothing of
// API rules; operations.ts decides what may be written.
import type { KubeObject } from './resources.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: ChangeType;
  storage: string;
  /** The object after the write; for DELETED its last state, carrying the deletion's revision. */
  object: KubeObject;
  /** The object before the write (MODIFIED, DELETED). */
  previous?: KubeObject;
  revision: number;
}

const keyOf = (obj: KubeObject) => `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;

export class Store {
  private revision = 0;
  private readonly collections = new Map<string, Map<string, KubeObject>>();
  private readonly listeners: ((change: Change) => void)[] = [];

  get resourceVersion(): number {
    return this.revision;
  }

  onChange(listener: (change: Change) => void): void {
    this.listeners.push(listener);
  }

  get(storage: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.collection(storage).get(`${namespace ?? ''}/${name}`);
    return found && structuredClone(found);
  }

  /** Sorted by namespace and name, as etcd's key order gives them. */
  list(storage: string, namespace?: string): KubeObject[] {
    return [...this.collection(storage).entries()]
      .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => structuredClone(o));
  }

  create(storage: string, obj: KubeObject): KubeObject {
    return this.write('ADDED', storage, obj, undefined);
  }

  update(storage: string, obj: KubeObject): KubeObject {
    return this.write('MODIFIED', storage, obj, this.collection(storage).get(keyOf(obj)));
  }

  /** Removes the object; `last` is its final state, as the DELETED watch event shows it. */
  remove(storage: string, last: KubeObject): KubeObject {
    return this.write('DELETED', storage, last, this.collection(storage).get(keyOf(last)));
  }

  private write(type: ChangeType, storage: string, obj: KubeObject, previous: KubeObject | undefined): KubeObject {
    const revision = ++this.revision;
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(revision);
    if (type === 'DELETED') this.collection(storage).delete(keyOf(stored));
    else this.collection(storage).set(keyOf(stored), stored);
    const change: Change = { type, storage, object: stored, revision, ...(previous ? { previous } : {}) };
    for (const listener of this.listeners) listener(change);
    return structuredClone(stored);
  }

  private collection(storage: string): Map<string, KubeObject> {
    let found = this.collections.get(storage);
    if (!found) this.collections.set(storage, (found = new Map()));
    return found;
  }
}
