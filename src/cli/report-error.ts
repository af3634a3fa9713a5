// How a command's failure reaches the user: one line with the underlying message (libvirt's,
// the file's, SQLite's) and the exit code, 2 for a usage error, 1 for everything else.
import { ConfigError } from '../config.js';
import { errorMessage } from '../core/logger.js';
import { DesiredStateError } from '../ports/desired-state-writer.js';
import { UsageError } from './usage.js';

/** Reports `err` for the command line `argv`; returns the exit code. Errors carry codes of any type (libvirt's are numbers). */
export function reportError(err: unknown, argv: string[]): number {
  const code = (err as { code?: unknown } | undefined)?.code;
  const usageError = err instanceof UsageError || err instanceof ConfigError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
  const line = err instanceof DesiredStateError ? `error (${err.code}): ${err.message}` : `error: ${oneLine(errorMessage(err))}`;
  process.stderr.write(line + (usageError ? "\nRun 'wimaxvm help' for usage." : '') + '\n');
  if (wantsStack(argv) && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  return usageError ? 2 : 1;
}

/** Stacks are for developers: `--log-level debug` or WIMAXVM_DEBUG=1. */
function wantsStack(argv: string[]): boolean {
  if (process.env.WIMAXVM_DEBUG === '1') return true;
  return argv.some((arg, i) => arg === '--log-level=debug' || (arg === '--log-level' && argv[i + 1] === 'debug'));
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}
