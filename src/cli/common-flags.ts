// Flags every command shares, and where the watched directory comes from.
//
// The edit commands (start, stop, restart, addclient, apply, delete) need the directory named:
// --dir, else $WIMAXVM_DIR. They have no default, so a forgotten --dir never edits the bundled
// examples/. The reading commands (get, describe, vmlist) keep the default `run` has, the bundled
// examples/: reading can change nothing, and it finds the state of `npm start` (which runs on
// examples/). A directory that is named must exist, for every command.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './usage.js';

/** The environment variable that names the watched directory when --dir is not given. */
export const DIR_ENV = 'WIMAXVM_DIR';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** --log-level and --help, accepted by every command (debug adds the stack to an error). */
export const COMMON_OPTIONS = {
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function checkLogLevel(level: string | undefined): void {
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level: expected ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
}

/** --dir, else $WIMAXVM_DIR, as an absolute path; undefined when neither is set. */
export function namedDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = flag ?? (env[DIR_ENV] || undefined);
  if (named === undefined) return undefined;
  const dir = resolve(named);
  const from = flag !== undefined ? '--dir' : DIR_ENV;
  if (!existsSync(dir)) throw new UsageError(`${from}: the directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${from}: ${dir} is not a directory`);
  return dir;
}

/** The directory an edit command changes: named, or a usage error. */
export function dirToEdit(command: string, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const dir = namedDir(flag, env);
  if (dir === undefined) {
    throw new UsageError(`${command} edits the declared YAML: name the watched directory with --dir DIR or ${DIR_ENV}=DIR (there is no default)`);
  }
  return dir;
}
