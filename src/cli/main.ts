// wimaxvm's command line. `run` is the controller; the other commands read what it wrote or
// change desired state by editing the declared YAML. Exit codes (documented in `wimaxvm help`
// and README): 0 ok, 1 failure or invalid input, 2 usage error.
//
// The commands here are the ones a user waits for (help, get, describe, vmlist, completion):
// the built CLI bundles this module with them into one file (scripts/bundle-cli.mjs). The rest
// are in other-commands.ts, which the bundle loads from dist/src/ when one of them runs.
import { reportError } from './report-error.js';
import { COMMANDS, UsageError, usage } from './usage.js';

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
      case 'get': return await (await import('./get-command.js')).get(rest);
      case 'describe': return await (await import('./read-commands.js')).describe(rest);
      case 'vmlist': return (await import('./read-commands.js')).vmlist(rest);
      case 'completion': return (await import('./completion.js')).completion(rest);
      case '__complete': return await (await import('./completion.js')).completeCommand(rest);
      case 'version': case '--version': return (await import('./version.js')).version(rest);
      case 'help': return help(rest[0]);
      case '--help': case '-h': case undefined: return help();
    }
  } catch (err) {
    return reportError(err, argv);
  }
  return (await import('./other-commands.js')).runOtherCommand(command, rest, argv);
}
