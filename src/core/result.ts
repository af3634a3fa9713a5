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
