// Runs a reconciler over a work queue with N workers. Keys only: the reconciler reads desired
// state itself, so a burst of events for one key costs one reconcile.
import { DatapathUnavailableError } from '../ports/datapath.js';
import { HypervisorUnavailableError } from '../ports/hypervisor.js';
import { errorMessage, withLogContext, type Logger } from './logger.js';
import { ConflictError, type Reconciler } from './result.js';
import { WorkQueue } from './work-queue.js';

export interface ControllerStats {
  reconciles: number;
  errors: number;
  requeues: number;
  totalDurationMs: number;
}

export interface ControllerOptions {
  reconciler: Reconciler;
  workers: number;
  logger: Logger;
  queue?: WorkQueue;
  /** How long to wait before retrying a key while the hypervisor is unreachable. */
  unavailableRetryMs?: number;
  /** Told after every reconcile (metrics). */
  onReconcile?: (outcome: ReconcileOutcome, seconds: number) => void;
}

export type ReconcileOutcome = 'success' | 'requeue' | 'error';

let reconcileCounter = 0;

/** A 409 means our view was stale; the watch brings the new one within moments. */
const CONFLICT_RETRY_MS = 100;

/**
 * Reconciles that wait on no I/O (a resync answered from the domain survey, with nothing to
 * change) resolve as microtasks, back to back: the event loop did not turn until the queue was
 * empty, so file events, libvirt events and the HTTP API waited a whole resync (1.7 s at 10,000
 * VMs). A worker that finds the loop has not turned for this long lets it turn first.
 */
export const TURN_BUDGET_MS = 10;
let turnStarted = performance.now();

async function letTheLoopTurn(): Promise<void> {
  if (performance.now() - turnStarted < TURN_BUDGET_MS) return;
  await new Promise((resolve) => setImmediate(resolve));
  turnStarted = performance.now();
}

export class Controller {
  readonly queue: WorkQueue;
  readonly stats: ControllerStats = { reconciles: 0, errors: 0, requeues: 0, totalDurationMs: 0 };
  private workers: Promise<void>[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: ControllerOptions) {
    this.queue = opts.queue ?? new WorkQueue();
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  start(): void {
    for (let i = 0; i < this.opts.workers; i++) this.workers.push(this.work());
  }

  /** Stops taking keys, lets in-flight reconciles finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  /** Resolves when nothing is queued or in flight (delayed requeues do not count). Tests use it. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.queue.inFlight === 0;
  }

  private async work(): Promise<void> {
    for (;;) {
      await letTheLoopTurn();
      const key = await this.queue.get();
      if (key === undefined) return;
      const started = performance.now();
      let outcome: ReconcileOutcome = 'success';
      const reconcileId = (++reconcileCounter).toString(36);
      try {
        const result = await withLogContext({ kind: this.opts.reconciler.kind, key, reconcileId }, () => this.opts.reconciler.reconcile(key));
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) {
          outcome = 'requeue';
          this.stats.requeues++;
          this.queue.addAfter(key, result.requeueAfterMs);
        }
      } catch (err) {
        outcome = 'error';
        this.stats.errors++;
        if (err instanceof ConflictError) {
          this.opts.logger.debug('conflict, requeued', { key, error: errorMessage(err) });
          this.queue.addAfter(key, CONFLICT_RETRY_MS);
        } else if (err instanceof HypervisorUnavailableError || err instanceof DatapathUnavailableError) {
          // Not the resource's fault: wait for the reconnect without growing its backoff. The
          // outage itself is logged once, by whatever watches the connection.
          this.opts.logger.debug('backend unavailable, will retry', { key, error: errorMessage(err) });
          this.queue.addAfter(key, this.opts.unavailableRetryMs ?? 2000);
        } else {
          this.opts.logger.warn('reconcile failed, retrying with backoff', { key, error: errorMessage(err), retries: this.queue.numRequeues(key) });
          this.queue.addRateLimited(key);
        }
      } finally {
        this.stats.reconciles++;
        const elapsed = performance.now() - started;
        this.stats.totalDurationMs += elapsed;
        this.opts.onReconcile?.(outcome, elapsed / 1000);
        this.queue.done(key);
        if (this.idleWaiters.length && this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
      }
    }
  }
}
