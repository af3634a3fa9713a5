// Starts a controller's parts in order and stops them in reverse (controller-runtime's Manager).
// A part that fails to start is fatal: the parts already started are stopped again and the
// error goes to the caller, so a controller runs completely or not at all.
import { errorMessage, type Logger } from './logger.js';

export interface Runnable {
  readonly name: string;
  /** Resolves once the part is up; `signal` aborts a start that waits (a source that cannot list yet). */
  start(signal: AbortSignal): Promise<void>;
  /** Also called after a failed start: it must undo whatever part of the start happened. */
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
  /** The start in progress, if any (settled: it never rejects). */
  private starting: Promise<unknown> | undefined;
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
      const starting = part.start(this.abort.signal);
      this.starting = starting.catch(() => undefined);
      try {
        await starting;
      } catch (err) {
        // The part that failed may hold something already (a watcher, a timer): it stops too.
        this.started.push(part);
        await this.stop();
        throw err instanceof StartError ? err : new StartError(part.name, err);
      } finally {
        this.starting = undefined;
      }
      this.started.push(part);
      this.logger.debug('started', { part: part.name });
    }
    if (this.abort.signal.aborted) {
      await this.stop(); // a part that finished starting after the stop began is stopped here
      throw new StartError('start', new Error('stopped while starting'));
    }
  }

  /**
   * Stops the started parts in reverse order, each once, even if another fails to. A part still
   * starting is told to give up (the signal) and waited for first, so that what the first parts
   * hold (the state lock) is always given back last.
   */
  stop(): Promise<void> {
    this.abort.abort();
    this.stopping ??= (async () => {
      await this.starting;
      await this.drain();
    })().finally(() => (this.stopping = undefined));
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
}
