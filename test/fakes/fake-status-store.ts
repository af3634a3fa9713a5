// In-memory StatusStore that counts writes (the reconciler must write only on change).
import type { Resource, ResourceKey } from '../../src/api/meta.js';
import type { StatusStore } from '../../src/ports/status-store.js';

export class FakeStatusStore implements StatusStore {
  private readonly objects = new Map<ResourceKey, Resource<unknown, any>>();
  /** Number of write() calls. */
  writes = 0;
  /** Number of remove() calls. */
  removes = 0;
  /** Keys written, in order. */
  readonly written: ResourceKey[] = [];

  get(key: ResourceKey): Resource<unknown, any> | undefined {
    return this.objects.get(key);
  }

  list(kind: string): Resource<unknown, any>[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${kind}/`)).map(([, v]) => v);
  }

  async write(key: ResourceKey, object: Resource<unknown, unknown>): Promise<void> {
    this.writes++;
    this.written.push(key);
    // A copy, as the file store keeps: later changes to the caller's object must not leak in.
    this.objects.set(key, structuredClone(object));
  }

  async remove(key: ResourceKey): Promise<void> {
    this.removes++;
    this.objects.delete(key);
  }

  /** Seeds an object without counting a write (status left by an earlier run). */
  seed(key: ResourceKey, object: Resource<unknown, unknown>): void {
    this.objects.set(key, structuredClone(object));
  }
}
