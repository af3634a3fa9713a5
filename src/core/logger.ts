// Structured logs: one JSON object a line, or a readable line when writing to a terminal.
// Every line carries the fields of the logger that wrote it (kind, key, ...) and, inside a
// reconcile, that reconcile's kind, key and id (from AsyncLocalStorage: no logger to pass around).
import { AsyncLocalStorage } from 'node:async_hooks';

const reconcileContext = new AsyncLocalStorage<Record<string, unknown>>();

/** Runs `fn` with `fields` added to every log line written inside it, however deep. */
export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return reconcileContext.run({ ...reconcileContext.getStore(), ...fields }, fn);
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'json' | 'text';
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}, base: Record<string, unknown> = {}): Logger {
  const min = LEVELS[opts.level ?? 'info'];
  const format = opts.format ?? (process.stderr.isTTY ? 'text' : 'json');
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < min) return;
    const all = { ...reconcileContext.getStore(), ...base, ...fields };
    if (format === 'json') {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...all }));
      return;
    }
    const extras = Object.entries(all).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    write(`${new Date().toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${msg}${extras ? '  ' + extras : ''}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...opts, format, write }, { ...base, ...fields }),
  };
}

export const silentLogger: Logger = createLogger({ write: () => {}, format: 'json' });

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
