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

/**
 * NotFound, Invalid and Conflict are the user's to fix; Refused is the store saying no for its
 * own reasons (the API server's 403, 429, 5xx: `status` carries its HTTP status), Unavailable is
 * no answer at all.
 */
export type DesiredStateErrorCode = 'NotFound' | 'Invalid' | 'Conflict' | 'Refused' | 'Unavailable';

export class DesiredStateError extends Error {
  constructor(message: string, readonly code: DesiredStateErrorCode, readonly status?: number) {
    super(message);
    this.name = 'DesiredStateError';
  }
}

/** The HTTP status that says the same as a DesiredStateError. */
export function httpStatusOf(err: DesiredStateError): number {
  if (err.status !== undefined) return err.status;
  return { NotFound: 404, Invalid: 400, Conflict: 409, Refused: 500, Unavailable: 503 }[err.code];
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
