// wimaxvm's command line. `run` is the controller; the other commands read what it wrote or
// change desired state by editing the declared YAML. Exit codes (documented in `wimaxvm help`
// and README): 0 ok, 1 failure or invalid input, 2 usage error.
import { ConfigError } from '../config.js';
import { errorMessage } from '../core/logger.js';
import { DesiredStateError } from '../ports/desired-state-writer.js';
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
    // Each command's module is loaded when it runs: `--help`, `version` and shell completion
    // never load the state database, the YAML and schema libraries, libvirt or Kubernetes.
    switch (command) {
      case 'run': return await (await import('./run-command.js')).run(rest);
      case 'get': return await (await import('./get-command.js')).get(rest);
      case 'top': return await (await import('./top-command.js')).top(rest);
      case 'describe': return await (await import('./read-commands.js')).describe(rest);
      case 'vmlist': return (await import('./read-commands.js')).vmlist(rest);
      case 'vmstat': return await (await import('./read-commands.js')).vmstat(rest);
      case 'start': case 'stop': return await (await import('./edit-commands.js')).power(command, rest);
      case 'restart': return await (await import('./edit-commands.js')).restart(rest);
      case 'renew': return await (await import('./renew-command.js')).renew(rest);
      case 'addclient': return await (await import('./edit-commands.js')).addClient(rest);
      case 'apply': return await (await import('./edit-commands.js')).apply(rest);
      case 'delete': return await (await import('./edit-commands.js')).remove(rest);
      case 'drain': return await (await import('./drain-command.js')).drain(rest);
      case 'cordon': case 'uncordon': return await (await import('./drain-command.js')).cordon(command, rest);
      case 'pool': return await (await import('./pool-command.js')).pool(rest);
      case 'image': return await (await import('./image-command.js')).image(rest);
      case 'create': return await (await import('./create-command.js')).create(rest);
      case 'console': return await (await import('./console-command.js')).consoleCommand(rest);
      case 'vnc': return await (await import('./console-command.js')).vnc(rest);
      case 'adopt': return await (await import('./adopt-command.js')).adopt(rest);
      case 'initvms': return await (await import('./adopt-command.js')).initvms(rest);
      case 'validate': return await (await import('./validate-command.js')).validate(rest);
      case 'completion': return (await import('./completion.js')).completion(rest);
      case '__complete': return await (await import('./completion.js')).completeCommand(rest);
      case 'version': case '--version': return (await import('./version.js')).version(rest);
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
