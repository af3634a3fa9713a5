// wimaxvm's command line. `run` is the controller; the other commands read what it wrote or
// change desired state by editing the declared YAML. Exit codes (documented in `wimaxvm help`
// and README): 0 ok, 1 failure or invalid input, 2 usage error.
import { ConfigError } from '../config.js';
import { errorMessage } from '../core/logger.js';
import { DesiredStateError } from '../ports/desired-state-writer.js';
import { completeCommand, completion } from './completion.js';
import { addClient, apply, power, remove, restart } from './edit-commands.js';
import { get } from './get-command.js';
import { describe, vmlist, vmstat } from './read-commands.js';
import { run } from './run-command.js';
import { top } from './top-command.js';
import { validate } from './validate-command.js';
import { version } from './version.js';
import { COMMANDS, UsageError, usage } from './usage.js';

/** Also used by the tests. */
export { parseRunArgs, startingFields } from './run-command.js';

function help(command?: string): number {
  if (command !== undefined && !COMMANDS[command]) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  process.stdout.write(usage(command) + '\n');
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run': return await run(rest);
      case 'get': return await get(rest);
      case 'top': return await top(rest);
      case 'describe': return describe(rest);
      case 'vmlist': return vmlist(rest);
      case 'vmstat': return await vmstat(rest);
      case 'start': case 'stop': return await power(command, rest);
      case 'restart': return await restart(rest);
      case 'addclient': return await addClient(rest);
      case 'apply': return await apply(rest);
      case 'delete': return await remove(rest);
      case 'validate': return await validate(rest);
      case 'completion': return completion(rest);
      case '__complete': return completeCommand(rest);
      case 'version': case '--version': return version(rest);
      case 'help': return help(rest[0]);
      case '--help': case '-h': case undefined: return help();
      default: throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    return reportError(err, wantsStack(argv));
  }
}

/** Stacks are for developers: `--log-level debug` or WIMAXVM_DEBUG=1. */
function wantsStack(argv: string[]): boolean {
  if (process.env.WIMAXVM_DEBUG === '1') return true;
  return argv.some((arg, i) => arg === '--log-level=debug' || (arg === '--log-level' && argv[i + 1] === 'debug'));
}

/**
 * One line with the underlying message (libvirt's, the file's, SQLite's) and the exit code:
 * 2 for a usage error, 1 for everything else. Errors carry codes of any type (libvirt's are numbers).
 */
function reportError(err: unknown, withStack: boolean): number {
  const code = (err as { code?: unknown } | undefined)?.code;
  const usageError = err instanceof UsageError || err instanceof ConfigError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
  const line = err instanceof DesiredStateError ? `error (${err.code}): ${err.message}` : `error: ${oneLine(errorMessage(err))}`;
  process.stderr.write(line + (usageError ? "\nRun 'wimaxvm help' for usage." : '') + '\n');
  if (withStack && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  return usageError ? 2 : 1;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}
