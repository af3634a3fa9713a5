// Changes of desired state made on a user's behalf (CLI verbs, the legacy HTTP API): never a
// direct libvirt or switch call, always an edit of what is declared, which the controller then
// reconciles. File mode edits the watched YAML; Kubernetes mode patches resources.
import type { ResourceKey } from '../api/meta.js';

export interface FieldChange {
  path: (string | number)[];
  /** undefined removes the field. */
  value: unknown;
}

export interface NewResource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

export interface DesiredStateWriter {
  /** Declares a new resource; a Conflict error if it is declared already. */
  create(object: NewResource): Promise<void>;
  /** Changes fields where the resource is declared; a NotFound error if it is not. */
  patch(key: ResourceKey, changes: FieldChange[]): Promise<void>;
  /** Removes the declaration; a NotFound error if there is none. */
  remove(key: ResourceKey): Promise<void>;
}

export class DesiredStateError extends Error {
  constructor(message: string, readonly code: 'NotFound' | 'Invalid' | 'Conflict') {
    super(message);
    this.name = 'DesiredStateError';
  }
}

/**
 * Declares `object`, or applies `changes` where it is declared already. Asks the writer (the
 * files, the API server), not a cache: a declaration made a moment ago may not be read back yet.
 */
export async function upsertDeclaration(writer: DesiredStateWriter, key: ResourceKey, object: NewResource, changes: FieldChange[]): Promise<'created' | 'configured'> {
  try {
    await writer.create(object);
    return 'created';
  } catch (err) {
    if (!(err instanceof DesiredStateError) || err.code !== 'Conflict') throw err;
    await writer.patch(key, changes);
    return 'configured';
  }
}
