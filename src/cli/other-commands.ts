// The commands outside the start-up path (main.ts): the controller, edits, images, consoles,
// adoption. The built CLI bundles main.ts's commands into one file (scripts/bundle-cli.mjs) and
// loads this module from dist/src/ as it stands, so it reports its own errors: the error classes
// it throws are its own copies, which main's copies would not recognise.
import { reportError } from './report-error.js';
import { UsageError } from './usage.js';

/** Runs `command` (the first word of `argv`) with `rest`; the exit code. */
export async function runOtherCommand(command: string | undefined, rest: string[], argv: string[]): Promise<number> {
  try {
    // Each command's module is loaded when it runs: the controller's, libvirt's and Kubernetes'
    // code only for the commands that use them.
    switch (command) {
      case 'run': return await (await import('./run-command.js')).run(rest);
      case 'top': return await (await import('./top-command.js')).top(rest);
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
      default: throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    return reportError(err, argv);
  }
}
