// How a reconcile ends, in controller-runtime's terms.

export interface ReconcileResult {
  /** Reconcile again after this long (a "wait", not an error: no backoff grows). */
  requeueAfterMs?: number;
}

/** A spec the user must fix: no retry, a Stalled condition says why. */
export class TerminalError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = 'TerminalError';
  }
}

export interface Reconciler {
  readonly kind: string;
  reconcile(key: string): Promise<ReconcileResult>;
}

/** Someone else wrote first (Kubernetes 409): look again soon, quietly, without backoff. */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}
