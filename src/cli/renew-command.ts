// `wimaxvm renew NAME`: starts a VM's lease again (Nimbus had no such thing: a --hours run simply
// ended). It edits the declaration like `restart` does: the wimaxvm.io/renewedAt annotation gets
// the current time, which the controller acts on once (src/leases/lease-clock.ts).
import { parseArgs } from 'node:util';
import { DEFAULT_NAMESPACE, resourceKey } from '../api/meta.js';
import { VM_KIND } from '../api/virtual-machine.js';
import { FileDesiredStateWriter } from '../adapters/file-desired-state-writer.js';
import { RENEWED_AT_ANNOTATION } from '../leases/lease-clock.js';
import { EDIT_OPTIONS } from './command-options.js';
import { checkLogLevel, dirToEdit } from './common-flags.js';
import { UsageError, usage } from './usage.js';

export async function renew(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: EDIT_OPTIONS.named, allowPositionals: true, strict: true });
  if (values.help) return (process.stdout.write(usage('renew') + '\n'), 0);
  checkLogLevel(values['log-level']);
  if (positionals.length !== 1) throw new UsageError("renew takes 1 argument(s); see 'wimaxvm help renew'");
  const name = positionals[0]!;
  const writer = new FileDesiredStateWriter(dirToEdit('renew', values.dir));
  const at = new Date().toISOString();
  await writer.patch(resourceKey(VM_KIND, values.namespace ?? DEFAULT_NAMESPACE, name), [{ path: ['metadata', 'annotations', RENEWED_AT_ANNOTATION], value: at }]);
  process.stdout.write(`virtualmachine/${name} lease renewal requested at ${at}\n`);
  return 0;
}
