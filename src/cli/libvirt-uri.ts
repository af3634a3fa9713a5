// Which libvirt the console, vnc and adopt commands talk to: --connect, else $WIMAXVM_CONNECT,
// else the URI of the controller running on --dir (or $WIMAXVM_DIR, or --state-dir), as it
// recorded in its state directory, else the default. In Kubernetes mode: the node's URI, named.
import { DEFAULTS, stateDirFor } from '../config.js';
import { namedDir } from './common-flags.js';

/** The environment variable naming the libvirt URI when --connect is not given. */
export const CONNECT_ENV = 'WIMAXVM_CONNECT';

export async function libvirtUriFor(values: { connect?: string | undefined; dir?: string | undefined; 'state-dir'?: string | undefined }): Promise<string> {
  const named = values.connect ?? (process.env[CONNECT_ENV] || undefined);
  if (named !== undefined) return named;
  const dir = namedDir(values.dir);
  if (dir === undefined && values['state-dir'] === undefined) return DEFAULTS.connect;
  const { readLockHolder } = await import('../adapters/store/controller-lock.js'); // SQLite only when asked
  return readLockHolder(stateDirFor({ dir, 'state-dir': values['state-dir'] }))?.connect ?? DEFAULTS.connect;
}
