// Moves in progress, one per domain, run in the background so that reconciles can say
// `Migrating` meanwhile (the status is written at the end of each reconcile) and a failed one is
// not tried again until the destination changes. A live move's progress is libvirt's job figures,
// read while it runs.
import { errorMessage } from '../core/logger.js';
import type { MigrationProgress } from '../ports/migration.js';
import type { MoveMode, MoveObserver } from './domain-move.js';

export interface MigrationJob {
  from: string;
  to: string;
  /** What the move was asked for with (the VM's generation, the drain): a failed one is retried only when it, or the guest's power, changes. */
  attempt?: string;
  /** Running or not when it was asked for. */
  power?: MoveAttempt['power'];
  /** Asked for by a drain of `from`. */
  drain?: boolean;
  /** The move stopped the running guest to move it cold (the destination does not see its disks). */
  stopped?: boolean;
  done: boolean;
  /** live or cold, once decided. */
  mode?: MoveMode;
  /** The guest is the destination's (its calls go there) even if the job failed afterwards. */
  moved?: boolean;
  /** The last job figures of a live move. */
  progress?: MigrationProgress;
  error?: string;
  startedAt: number;
}

/** How often a live move's figures are read. */
export const PROGRESS_EVERY_MS = 1000;

/** What a move is asked with (src/reconcilers/virtual-machine/steps/placement.ts). */
export interface MoveAttempt {
  /** The VM's generation and the drain. */
  token: string;
  power: 'running' | 'off';
  drain: boolean;
  /** A running guest that cannot move live may be stopped and moved cold (its runStrategy starts it there). */
  mayStop: boolean;
}

/** A move asked for outside a reconcile (tests): retried only when its destination changes, never stops a guest. */
export const ANY_ATTEMPT: MoveAttempt = { token: '', power: 'off', drain: false, mayStop: false };

export class Migrations {
  private readonly jobs = new Map<string, MigrationJob>();

  get(domainName: string): MigrationJob | undefined {
    return this.jobs.get(domainName);
  }

  /** The moves not finished, by domain (the one of `domainName`: inFlight().get). */
  inFlight(): Map<string, MigrationJob> {
    return new Map([...this.jobs].filter(([, job]) => !job.done));
  }

  /**
   * Starts `move` unless a job for this domain runs (it is returned, whatever its destination) or
   * one to `to` of the same `attempt` finished with an error (returned: not retried); `progress` is read every second
   * while a live move runs; `onDone` runs before the job counts as done.
   */
  start(domainName: string, from: string, to: string, attempt: MoveAttempt, move: (observer: MoveObserver) => Promise<unknown>,
    progress: () => Promise<MigrationProgress | undefined>, onDone: (job: MigrationJob) => void): MigrationJob {
    const existing = this.jobs.get(domainName);
    // A failed move that stopped the guest is not tried again when the guest starts again where it was: that would stop it again.
    const tried = existing?.done && existing.to === to && existing.attempt === attempt.token && (existing.power === attempt.power || existing.stopped === true);
    if (existing && (!existing.done || tried)) return existing;
    const job: MigrationJob = { from, to, attempt: attempt.token, power: attempt.power, drain: attempt.drain, done: false, startedAt: Date.now() };
    this.jobs.set(domainName, job);
    const timer = setInterval(() => {
      if (job.mode === 'live' && !job.moved) progress().then((p) => { if (p && !job.moved) job.progress = p; }, () => undefined);
    }, PROGRESS_EVERY_MS);
    const finish = (error?: unknown) => {
      clearInterval(timer);
      if (error !== undefined) job.error = errorMessage(error);
      onDone(job);
      job.done = true;
    };
    void move({ mode: (mode) => { job.mode = mode; }, moved: () => { job.moved = true; }, stopping: () => { job.stopped = true; } }).then(() => finish(), finish);
    return job;
  }

  /** Forgets a finished job (a success is in status by then). */
  clear(domainName: string): void {
    if (this.jobs.get(domainName)?.done) this.jobs.delete(domainName);
  }
}

/** What a Migrating VM's condition says: `live migration from a to b: 45 % (58 of 128 MiB)`. */
export function describeMove(job: MigrationJob, drain?: boolean): string {
  const kind = job.mode === 'cold' ? 'cold move' : 'live migration';
  const head = `${drain ? `draining ${job.from}: ` : ''}${kind} from ${job.from} to ${job.to}`;
  if (job.stopped && !job.mode) return `${drain ? `draining ${job.from}: ` : ''}stopping the guest to move it from ${job.from} to ${job.to} cold (${job.to} does not see its disks)`;
  const p = job.progress;
  if (!p || p.totalBytes <= 0) return `${head} in progress`;
  const mib = (b: number) => Math.round(b / 2 ** 20);
  // Done is what is no longer remaining (libvirt skips zero pages: processed stays below the total).
  const done = Math.max(0, p.totalBytes - p.remainingBytes);
  // Whole percent: the message (and so the status) changes at most once a percent, and at most once per look.
  const percent = Math.min(100, Math.floor((100 * done) / p.totalBytes));
  return `${head}: ${percent} % (${mib(done)} of ${mib(p.totalBytes)} MiB)`;
}
