// An attached console: the user's input goes to the guest's serial port, the guest's output to
// the user, until Ctrl-] , the end of the input, the guest going away, or a signal. A terminal is
// put in raw mode (keys reach the guest as typed, Ctrl-C included) and restored on every way out.
import type { Readable, Writable } from 'node:stream';
import { splitAtEscape } from './escape.js';

/** The guest's side: a libvirt console stream (src/adapters/libvirt/native.ts ConsoleStream). */
export interface ConsoleChannel {
  onData(listener: (chunk: Buffer) => void): void;
  onEnd(listener: (err?: Error) => void): void;
  write(chunk: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** The user's side: stdin may be a terminal (raw mode) or a pipe. */
export interface ConsoleUser {
  input: Readable & { isTTY?: boolean; isRaw?: boolean; setRawMode?: (raw: boolean) => unknown };
  output: Writable;
  /** Signals that end the session (the process's, by default). */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
}

export type SessionEnd =
  | { by: 'escape' }
  | { by: 'input-ended' }
  | { by: 'guest' }
  | { by: 'signal'; signal: NodeJS.Signals }
  | { by: 'error'; error: Error };

const ENDING_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function runConsoleSession(channel: ConsoleChannel, user: ConsoleUser): Promise<SessionEnd> {
  const { input, output } = user;
  const signals = user.signals ?? process;
  const raw = input.isTTY === true && typeof input.setRawMode === 'function';
  const wasRaw = input.isRaw === true;
  // Restored even when the process dies of an uncaught error.
  const restore = (): void => { if (raw) input.setRawMode!(wasRaw); };
  if (raw) {
    input.setRawMode!(true);
    process.once('exit', restore);
  }

  return new Promise<SessionEnd>((resolve) => {
    let ended = false;
    let writes: Promise<void> = Promise.resolve();

    const finish = (end: SessionEnd): void => {
      if (ended) return;
      ended = true;
      input.off('data', onInput);
      input.off('end', onInputEnd);
      for (const s of ENDING_SIGNALS) signals.off(s, onSignal);
      restore();
      if (raw) process.off('exit', restore);
      input.pause();
      // What was typed before the end still reaches the guest; then the stream is closed.
      void writes.then(() => undefined, () => undefined).then(() => channel.close()).catch(() => undefined).then(() => resolve(end));
    };
    const send = (chunk: Buffer): void => {
      if (chunk.length === 0) return;
      writes = writes.then(() => channel.write(chunk));
      writes.catch((error: Error) => finish({ by: 'error', error }));
    };
    const onInput = (chunk: Buffer | string): void => {
      const { forward, escaped } = splitAtEscape(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      send(forward);
      if (escaped) finish({ by: 'escape' });
    };
    const onInputEnd = (): void => finish({ by: 'input-ended' });
    const onSignal = (signal: NodeJS.Signals): void => finish({ by: 'signal', signal });

    channel.onData((chunk) => { if (!ended) output.write(chunk); });
    channel.onEnd((error) => finish(error ? { by: 'error', error } : { by: 'guest' }));
    for (const s of ENDING_SIGNALS) signals.on(s, onSignal);
    input.on('data', onInput);
    input.on('end', onInputEnd);
    input.resume();
  });
}
