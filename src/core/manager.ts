// Starts a controller's parts in order and stops them in reverse (controller-runtime's Manager).
// A part that fails to start is fatal: the parts already started are stopped again and the
// error goes to the caller, so a controller runs completely or not at all.
import { errorMessage, type Logger } from './logger.js';

export interface Runnable {
  readonly name: string;
  /** Resolves once the part is up; `signal` aborts a start that waits (a source that cannot list yet). */
  start(signal: AbortSignal): Promise<void>;
  stop?(): Promise<void>;
}

/** A part could not start; the message names it. */
export class StartError extends Error {
  constructor(readonly part: string, override readonly cause: unknown) {
    super(`${part}: ${errorMessage(cause)}`);
    this.name = 'StartError';
  }
}

export class Manager {
  private readonly parts: Runnable[] = [];
  private readonly started: Runnable[] = [];
  private readonly abort = new AbortController();
  private stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  add(...parts: Runnable[]): this {
    this.parts.push(...parts);
    return this;
  }

  /** Starts every part in order; on the first failure (or a stop meanwhile) stops what started and throws. */
  async start(): Promise<void> {
    for (const part of this.parts) {
      if (this.abort.signal.aborted) break;
      try {
        await part.start(this.abort.signal);
      } catch (err) {
        await this.stop();
        throw err instanceof StartError ? err : new StartError(part.name, err);
      }
      this.started.push(part);
      this.logger.debug('started', { part: part.name });
    }
    if (this.abort.signal.aborted) {
      await this.stop(); // a part that finished starting after the stop began is stopped here
      throw new StartError('start', new Error('stopped while starting'));
    }
  }

  /** Stops the started parts in reverse order; each is stopped once, even if another fails to. */
  stop(): Promise<void> {
    this.abort.abort();
    this.stopping ??= this.drain().finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  private async drain(): Promise<void> {
    while (this.started.length) {
      const part = this.started.pop()!;
      try {
        await part.stop?.();
      } catch (err) {
        this.logger.error('failed to stop', { part: part.name, error: errorMessage(err) });
      }
    }
  }

  /** Whether a stop was asked for. */
  get stopped(): boolean {
    return this.abort.signal.aborted;
  }
}
