// Where observed status goes: status files in file mode, the status subresource in Kubernetes.
import type { Resource, ResourceKey } from '../api/meta.js';

export interface StatusStore {
  get(key: ResourceKey): Resource<unknown, any> | undefined;
  /** Every object the store holds, for rebuilding allocations before the first reconcile. */
  list(kind: string): Resource<unknown, any>[];
  /** Writes metadata, spec and status together, atomically. Callers write only on change. */
  write(key: ResourceKey, object: Resource<unknown, unknown>): Promise<void>;
  remove(key: ResourceKey): Promise<void>;
}
