// `wimaxvm get`: list the objects of a type or show one, as kubectl does: tables (-o wide),
// documents (-o yaml|json), names (-o name), label selectors (-l), and -w to go on printing
// changes until Ctrl-C.
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { DEFAULT_NAMESPACE, type Resource } from '../api/meta.js';
import { SHAPING_POLICY_KIND } from '../api/shaping-policy.js';
import { stateDirFor } from '../config.js';
import { EXAMPLES_DIR } from '../package-root.js';
import { checkLogLevel, COMMON_OPTIONS, namedDir } from './common-flags.js';
import { declaredListing, storedListing, type Listing, type Query } from './listing.js';
import { columnWidths, tableLine } from './output.js';
import { columnsFor, nameLine } from './printers.js';
import { kindArg, knownTypesText, plural } from './resource-types.js';
import { parseSelector } from './selectors.js';
import { warnIfNoController, watchedDirOf } from './stored-state.js';
import { StateReader } from '../adapters/store/state-reader.js';
import { usage, UsageError } from './usage.js';
import { watchChanges, type WatchEvent } from './watch.js';

export const GET_OPTIONS = {
  ...COMMON_OPTIONS,
  dir: { type: 'string' }, 'state-dir': { type: 'string' }, output: { type: 'string', short: 'o' },
  namespace: { type: 'string', short: 'n' }, 'all-namespaces': { type: 'boolean', short: 'A' },
  selector: { type: 'string', short: 'l' }, watch: { type: 'boolean', short: 'w' }, 'output-watch-events': { type: 'boolean' },
} as const;

const OUTPUTS = ['', 'wide', 'yaml', 'json', 'name'];

export async function get(args: string[], signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: GET_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return (process.stdout.write(usage('get') + '\n'), 0);
  checkLogLevel(values['log-level']);
  if (!positionals.length) {
    process.stderr.write(`You must specify the type of resource to get. Known types:\n${knownTypesText()}\nerror: Required resource not specified.\nRun 'wimaxvm help get' for usage.\n`);
    return 2;
  }
  if (positionals.length > 2) throw new UsageError(`get takes a TYPE and at most one NAME, got ${positionals.join(' ')}`);
  const [kindName, name] = positionals;
  const kind = kindArg(kindName);
  const output = values.output ?? '';
  if (!OUTPUTS.includes(output)) throw new UsageError(`-o: expected wide, yaml, json or name, got ${JSON.stringify(output)}`);
  if (values['output-watch-events'] && !values.watch) throw new UsageError('--output-watch-events goes with -w');
  const query: Query = {
    kind, name, selector: parseSelector(values.selector ?? ''),
    namespace: values['all-namespaces'] ? undefined : values.namespace ?? DEFAULT_NAMESPACE,
  };
  const flags = { dir: namedDir(values.dir), 'state-dir': values['state-dir'] };
  const listing = listingFor(query, flags);
  try {
    const token = listing.changeToken();
    const objects = listing.list();
    if (name && !objects.length && !values.watch) {
      process.stderr.write(`Error from server (NotFound): ${plural(kind)} "${name}" not found in namespace ${query.namespace}\n`);
      return 1;
    }
    if (!values.watch && (output === 'yaml' || output === 'json')) {
      const body = name ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects };
      process.stdout.write(output === 'yaml' ? stringify(body) : JSON.stringify(body, null, 2) + '\n');
      return 0;
    }
    const print = printer(kind, output, query.namespace === undefined, values['output-watch-events'] === true, objects);
    if (!objects.length && output !== 'name') process.stderr.write(`No resources found${query.namespace ? ` in ${query.namespace} namespace` : ''}.\n`);
    for (const object of objects) print('ADDED', object);
    if (values.watch) await watchChanges(listing, token, objects, print, signal ?? stopSignal());
    return 0;
  } finally {
    listing.close();
  }
}

/** VMs and stations from the state database (warning when no controller runs); policies from the directory. */
function listingFor(query: Query, flags: { dir: string | undefined; 'state-dir': string | undefined }): Listing {
  if (query.kind === SHAPING_POLICY_KIND) return declaredListing(watchedDirOf(flags) ?? EXAMPLES_DIR, query);
  const stateDir = stateDirFor(flags);
  const reader = StateReader.open(stateDir);
  try {
    warnIfNoController(stateDir, reader, flags.dir);
  } finally {
    reader?.close();
  }
  return storedListing(stateDir, query);
}

/** Prints one object per call: a table row (the header before the first), a name, or a document. */
function printer(kind: string, output: string, allNamespaces: boolean, withEvents: boolean, initial: Resource<any, any>[]) {
  if (output === 'name') return (_: WatchEvent, o: Resource<any, any>) => void process.stdout.write(nameLine(o) + '\n');
  if (output === 'yaml') return (_: WatchEvent, o: Resource<any, any>) => void process.stdout.write('---\n' + stringify(o));
  if (output === 'json') return (_: WatchEvent, o: Resource<any, any>) => void process.stdout.write(JSON.stringify(o, null, 2) + '\n');
  const columns = columnsFor(kind, output === 'wide', allNamespaces);
  const headers = [...(withEvents ? ['EVENT'] : []), ...columns.headers];
  const cells = (event: WatchEvent, o: Resource<any, any>) => [...(withEvents ? [event] : []), ...columns.row(o)];
  // Widths from the first list; later lines keep them where they fit.
  const widths = columnWidths(headers, initial.map((o) => cells('MODIFIED', o)));
  let headerDone = false;
  return (event: WatchEvent, o: Resource<any, any>) => {
    if (!headerDone) process.stdout.write(tableLine(headers, widths) + '\n');
    headerDone = true;
    process.stdout.write(tableLine(cells(event, o), widths) + '\n');
  };
}

/** Aborts on the first SIGINT or SIGTERM: a watch then ends with exit 0. */
function stopSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return controller.signal;
}
