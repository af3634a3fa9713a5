// Shell completion, the way kubectl (cobra) does it: `wimaxvm completion bash|zsh` prints a small
// script whose function asks `wimaxvm __complete WORD...` (the words typed so far, the last being
// the one being completed) for candidates: commands, flags, flag values, resource types and the
// names of resources. Names come from what the command works on: the edit commands from the
// declarations in --dir (or $WIMAXVM_DIR), the reading commands from the controller's state
// database (`get -o name`'s source). The first line `:files` or `:dirs` asks the shell for paths.
import { parseArgs } from 'node:util';
import { DEFAULT_NAMESPACE } from '../api/meta.js';
import { SHAPING_POLICY_KIND } from '../api/shaping-policy.js';
import { VM_KIND } from '../api/virtual-machine.js';
import { stateDirFor } from '../config.js';
import { EXAMPLES_DIR } from '../package-root.js';
import { ADOPT_OPTIONS, CONSOLE_OPTIONS, CORDON_OPTIONS, CREATE_OPTIONS, DRAIN_OPTIONS, EDIT_COMMAND_OPTIONS, GET_OPTIONS, IMAGE_OPTIONS, POOL_OPTIONS, READ_COMMAND_OPTIONS, RUN_OPTIONS, TOP_OPTIONS, VNC_OPTIONS } from './command-options.js';
import { checkLogLevel, COMMON_OPTIONS, LOG_LEVELS, namedDir } from './common-flags.js';
import { BASH_SCRIPT, ZSH_SCRIPT } from './completion-scripts.js';
import { kindArg, RESOURCE_TYPES } from './resource-types.js';
import { COMMANDS, usage, UsageError } from './usage.js';

type Options = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

const OPTIONS: Record<string, Options> = {
  run: RUN_OPTIONS, get: GET_OPTIONS, ...EDIT_COMMAND_OPTIONS, ...READ_COMMAND_OPTIONS,
  validate: COMMON_OPTIONS, completion: COMMON_OPTIONS, version: COMMON_OPTIONS, help: {}, top: TOP_OPTIONS, pool: POOL_OPTIONS,
  create: CREATE_OPTIONS, image: { ...IMAGE_OPTIONS.import, ...IMAGE_OPTIONS.list, ...IMAGE_OPTIONS.rm },
  console: CONSOLE_OPTIONS, vnc: VNC_OPTIONS, adopt: ADOPT_OPTIONS, initvms: ADOPT_OPTIONS,
  drain: DRAIN_OPTIONS, cordon: CORDON_OPTIONS, uncordon: CORDON_OPTIONS,
};

/** Values of flags that take one of a few words; paths for those that take a file or directory. */
const FLAG_VALUES: Record<string, string[]> = {
  output: ['wide', 'yaml', 'json', 'name'], 'log-level': [...LOG_LEVELS], 'log-format': ['json', 'text'],
  source: ['dir', 'kube'], connect: ['test:///default', 'qemu:///system', 'qemu:///session'],
  dir: [':dirs'], 'state-dir': [':dirs'], 'image-dir': [':dirs'], 'overlay-dir': [':dirs'],
  filename: [':files'], kubeconfig: [':files'], 'api-token-file': [':files'],
};

/** What each argument position of a command takes. */
type Arg = 'type' | 'statusType' | 'name' | 'vm' | 'files' | 'command' | 'shell' | 'none';
const ARGS: Record<string, Arg[]> = {
  get: ['type', 'name'], describe: ['statusType', 'name'], delete: ['type', 'name'],
  start: ['vm'], stop: ['vm'], restart: ['vm'], renew: ['vm'], vmstat: ['vm'], console: ['vm'], vnc: ['vm'], addclient: ['none', 'vm'],
  validate: ['files'], help: ['command'], completion: ['shell'],
};

const EDITS = new Set(Object.keys(EDIT_COMMAND_OPTIONS));

export function completion(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: COMMON_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return (process.stdout.write(usage('completion') + '\n'), 0);
  checkLogLevel(values['log-level']);
  const [shell, ...rest] = positionals;
  if (rest.length || (shell !== 'bash' && shell !== 'zsh')) throw new UsageError('completion takes one SHELL: bash or zsh');
  process.stdout.write(shell === 'bash' ? BASH_SCRIPT : ZSH_SCRIPT);
  return 0;
}

/** `wimaxvm __complete WORD...`: candidates, one per line. Never fails: a completion says nothing rather than an error. */
export async function completeCommand(words: string[]): Promise<number> {
  try {
    const out = await candidates(words);
    if (out.length) process.stdout.write(out.join('\n') + '\n');
  } catch {
    // Nothing to offer (an unreadable state database, a directory that is gone).
  }
  return 0;
}

/**
 * The candidates for the last of `words` (the words after `wimaxvm`). Commands and flags come
 * from tables; only names need the state database (a names-only query) or the declarations.
 */
export async function candidates(words: string[]): Promise<string[]> {
  const current = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  if (!before.length) return current.startsWith('-') ? ['--version', '--help'] : [...Object.keys(COMMANDS), 'help'];
  const [command, ...typed] = before as [string, ...string[]];
  const options = OPTIONS[command];
  if (!options) return [];
  const { flags, positionals, pendingFlag } = scan(typed, options);
  if (pendingFlag) return FLAG_VALUES[pendingFlag] ?? (pendingFlag === 'namespace' ? namespaces(command, flags) : []);
  if (current.startsWith('-')) return flagNames(options);
  const arg = (ARGS[command] ?? [])[positionals.length] ?? 'none';
  switch (arg) {
    case 'type': return RESOURCE_TYPES.flatMap((t) => [t.plural, ...t.shortNames, ...t.aliases]);
    case 'statusType': return RESOURCE_TYPES.filter((t) => t.kind !== SHAPING_POLICY_KIND).flatMap((t) => [t.plural, ...t.shortNames, ...t.aliases]);
    case 'name': return names(command, positionals[0], flags);
    case 'vm': return names(command, VM_KIND, flags);
    case 'files': return [':files'];
    case 'command': return Object.keys(COMMANDS);
    case 'shell': return ['bash', 'zsh'];
    default: return [];
  }
}

function flagNames(options: Options): string[] {
  return Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
}

/** The flags typed so far (long names), the positionals, and a flag still waiting for its value. */
function scan(words: string[], options: Options) {
  const flags: Record<string, string | true> = {};
  const positionals: string[] = [];
  let pendingFlag: string | undefined;
  for (const word of words) {
    if (pendingFlag) {
      flags[pendingFlag] = word;
      pendingFlag = undefined;
      continue;
    }
    const long = /^--([^=]+)(?:=(.*))?$/.exec(word);
    const short = /^-([^-])(.*)$/.exec(word);
    const name = long ? long[1]! : short ? Object.keys(options).find((n) => options[n]!.short === short[1]) : undefined;
    if (name === undefined || !options[name]) {
      if (!word.startsWith('-')) positionals.push(word);
      continue;
    }
    const inline = long ? long[2] : short![2] || undefined;
    if (options[name]!.type === 'boolean') flags[name] = true;
    else if (inline !== undefined) flags[name] = inline;
    else pendingFlag = name;
  }
  return { flags, positionals, pendingFlag };
}

/** Names of `typeName` resources: declared in the directory for edits (and policies), stored otherwise. */
async function names(command: string, typeName: string | undefined, flags: Record<string, string | true>): Promise<string[]> {
  const kind = kindArg(typeName);
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const dir = namedDir(str('dir'));
  const namespace = flags['all-namespaces'] ? undefined : str('namespace') ?? DEFAULT_NAMESPACE;
  if (EDITS.has(command) || kind === SHAPING_POLICY_KIND) {
    if (!dir && EDITS.has(command)) return [];
    const { declaredListing } = await import('./declared-listing.js');
    const listing = declaredListing(dir ?? EXAMPLES_DIR, { kind, namespace, selector: [] });
    return [...new Set(listing.list().map((o) => o.metadata.name))];
  }
  const { StateReader } = await import('../adapters/store/state-reader.js');
  const reader = StateReader.open(stateDirFor({ dir, 'state-dir': str('state-dir') }));
  try {
    return [...new Set(reader?.names(kind, namespace) ?? [])];
  } finally {
    reader?.close();
  }
}

async function namespaces(command: string, flags: Record<string, string | true>): Promise<string[]> {
  if (EDITS.has(command)) return [];
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const { StateReader } = await import('../adapters/store/state-reader.js');
  const reader = StateReader.open(stateDirFor({ dir: namedDir(str('dir')), 'state-dir': str('state-dir') }));
  try {
    return reader?.namespaces(RESOURCE_TYPES.map((t) => t.kind)) ?? [];
  } finally {
    reader?.close();
  }
}
