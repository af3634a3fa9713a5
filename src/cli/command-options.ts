// The flags of each command, apart from the commands themselves: parsing a command's arguments
// and completing them in a shell (which happens on every Tab) need these tables, never the
// modules that do the command's work.
import { COMMON_OPTIONS } from './common-flags.js';

export const RUN_OPTIONS = {
  dir: { type: 'string' }, connect: { type: 'string' }, 'state-dir': { type: 'string' }, 'image-dir': { type: 'string' },
  'overlay-dir': { type: 'string' }, workers: { type: 'string' }, resync: { type: 'string' }, poll: { type: 'string' },
  'shutdown-timeout': { type: 'string' }, nic: { type: 'string' }, uplink: { type: 'string' }, 'vlan-range': { type: 'string' },
  listen: { type: 'string' }, 'api-token-file': { type: 'string' },
  source: { type: 'string' }, kubeconfig: { type: 'string' }, namespace: { type: 'string' }, 'node-name': { type: 'string' }, 'advertise-uri': { type: 'string' },
  'leader-elect': { type: 'boolean' }, 'lease-namespace': { type: 'string' }, 'lease-name': { type: 'string' }, 'vlan-claim-namespace': { type: 'string' },
  'log-level': { type: 'string' }, 'log-format': { type: 'string' },
  'allow-empty': { type: 'boolean' }, 'adopt-from': { type: 'string', multiple: true },
  settle: { type: 'string' }, 'traffic-interval': { type: 'string' }, 'traffic-status-interval': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const GET_OPTIONS = {
  ...COMMON_OPTIONS,
  dir: { type: 'string' }, 'state-dir': { type: 'string' }, output: { type: 'string', short: 'o' },
  namespace: { type: 'string', short: 'n' }, 'all-namespaces': { type: 'boolean', short: 'A' },
  selector: { type: 'string', short: 'l' }, watch: { type: 'boolean', short: 'w' }, 'output-watch-events': { type: 'boolean' },
} as const;

export const READ_OPTIONS = {
  ...COMMON_OPTIONS,
  dir: { type: 'string' }, 'state-dir': { type: 'string' }, namespace: { type: 'string', short: 'n' },
} as const;

export const VMLIST_OPTIONS = { ...READ_OPTIONS, 'all-namespaces': { type: 'boolean', short: 'A' } } as const;
export const VMSTAT_OPTIONS = { ...COMMON_OPTIONS, connect: { type: 'string' }, namespace: { type: 'string', short: 'n' } } as const;

export const VNC_OPTIONS = { ...COMMON_OPTIONS, connect: { type: 'string' }, dir: { type: 'string' }, 'state-dir': { type: 'string' }, namespace: { type: 'string', short: 'n' } } as const;
export const CONSOLE_OPTIONS = { ...VNC_OPTIONS, force: { type: 'boolean' } } as const;

export const ADOPT_OPTIONS = {
  ...COMMON_OPTIONS, connect: { type: 'string' }, dir: { type: 'string' }, 'state-dir': { type: 'string' }, source: { type: 'string' }, kubeconfig: { type: 'string' },
  namespace: { type: 'string', short: 'n' }, 'image-dir': { type: 'string' }, 'run-strategy': { type: 'string' },
  'dry-run': { type: 'boolean' }, output: { type: 'string', short: 'o' },
} as const;

/** The flags of each reading command but `get`. */
export const READ_COMMAND_OPTIONS = { describe: READ_OPTIONS, vmlist: VMLIST_OPTIONS, vmstat: VMSTAT_OPTIONS };

const DIR = { dir: { type: 'string' } } as const;
const NAMESPACE = { namespace: { type: 'string', short: 'n' } } as const;

/** The edit commands' flags: a flag a command does not use is an error, not silently ignored. */
export const EDIT_OPTIONS = {
  power: { ...COMMON_OPTIONS, ...DIR, ...NAMESPACE, 'state-dir': { type: 'string' }, wait: { type: 'string' } },
  named: { ...COMMON_OPTIONS, ...DIR, ...NAMESPACE },
  apply: { ...COMMON_OPTIONS, ...DIR, filename: { type: 'string', short: 'f' } },
} as const;

/** The flags of each edit command. */
export const EDIT_COMMAND_OPTIONS = {
  start: EDIT_OPTIONS.power, stop: EDIT_OPTIONS.power, restart: EDIT_OPTIONS.named, renew: EDIT_OPTIONS.named, addclient: EDIT_OPTIONS.named,
  delete: EDIT_OPTIONS.named, apply: EDIT_OPTIONS.apply,
};

/** drain / cordon / uncordon HOST (src/cli/drain-command.ts). */
export const DRAIN_OPTIONS = {
  ...COMMON_OPTIONS, ...DIR, source: { type: 'string' }, kubeconfig: { type: 'string' }, 'state-dir': { type: 'string' }, force: { type: 'boolean' }, timeout: { type: 'string' },
} as const;
export const CORDON_OPTIONS = { ...COMMON_OPTIONS, ...DIR, source: { type: 'string' }, kubeconfig: { type: 'string' } } as const;

/** `pool import FILE`: writes into --dir, or prints with -o yaml. */
export const POOL_OPTIONS = {
  ...COMMON_OPTIONS, ...DIR, ...NAMESPACE, name: { type: 'string' }, output: { type: 'string', short: 'o' },
} as const;

export const TOP_OPTIONS = {
  ...COMMON_OPTIONS,
  dir: { type: 'string' }, 'state-dir': { type: 'string' }, server: { type: 'string' },
  namespace: { type: 'string', short: 'n' }, 'all-namespaces': { type: 'boolean', short: 'A' },
  once: { type: 'boolean' }, interval: { type: 'string' },
} as const;

/** Where the declared VMs are read from (file mode: --dir; Kubernetes mode: the API server). */
const SOURCE = { dir: { type: 'string' }, source: { type: 'string' }, kubeconfig: { type: 'string' } } as const;

/** `image import|list|rm`: each subcommand's own flags. */
export const IMAGE_OPTIONS = {
  import: { ...COMMON_OPTIONS, 'image-dir': { type: 'string' }, name: { type: 'string' } },
  list: { ...COMMON_OPTIONS, ...SOURCE, 'image-dir': { type: 'string' }, output: { type: 'string', short: 'o' } },
  rm: { ...COMMON_OPTIONS, ...SOURCE, 'image-dir': { type: 'string' } },
} as const;

export const CREATE_OPTIONS = {
  ...COMMON_OPTIONS, ...SOURCE, namespace: { type: 'string', short: 'n' }, 'image-dir': { type: 'string' },
  image: { type: 'string', multiple: true }, memory: { type: 'string' }, vcpus: { type: 'string' }, hours: { type: 'string' },
  vlan: { type: 'string' }, 'run-strategy': { type: 'string' }, 'dry-run': { type: 'string' }, output: { type: 'string', short: 'o' },
} as const;
