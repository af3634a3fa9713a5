// Migrations in progress, one per domain, run in the background so that reconciles can say
// `Migrating` meanwhile (the status is written at the end of each reconcile) and a failed one is
// not tried again until spec.nodeName names another host.
import { errorMessage } from '../core/logger.js';

export interface MigrationJob {
  from: string;
  to: string;
  done: boolean;
  error?: string;
  startedAt: number;
}

export class Migrations {
  private readonly jobs = new Map<string, MigrationJob>();

  get(domainName: string): MigrationJob | undefined {
    return this.jobs.get(domainName);
  }

  /** Starts `move` unless a job for this destination exists; `onDone` runs before the job counts as done. */
  start(domainName: string, from: string, to: string, move: () => Promise<void>, onDone: (ok: boolean) => void): MigrationJob {
    const existing = this.jobs.get(domainName);
    if (existing && existing.to === to) return existing;
    const job: MigrationJob = { from, to, done: false, startedAt: Date.now() };
    this.jobs.set(domainName, job);
    void move().then(
      () => { onDone(true); job.done = true; },
      (err) => { job.error = errorMessage(err); onDone(false); job.done = true; },
    );
    return job;
  }

  /** Forgets a finished job (a success is in status by then). */
  clear(domainName: string): void {
    if (this.jobs.get(domainName)?.done) this.jobs.delete(domainName);
  }
}
