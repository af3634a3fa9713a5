// `wimaxvm get`: list the objects of a type or show one, as kubectl does: tables (-o wide),
// documents (-o yaml|json), names (-o name), label selectors (-l), and -w to go on printing
// changes until Ctrl-C.
import { parseArgs } from 'node:util';
import { DEFAULT_NAMESPACE, type Resource } from '../api/meta.js';
import { SHAPING_POLICY_KIND } from '../api/shaping-policy.js';
import { stateDirFor } from '../config.js';
import { EXAMPLES_DIR } from '../package-root.js';
import { GET_OPTIONS } from './command-options.js';
import { checkLogLevel, namedDir } from './common-flags.js';
import { storedListing, type Listing, type Query } from './listing.js';
import { columnWidths, tableLine } from './output.js';
import { columnsFor, nameLine } from './printers.js';
import { kindArg, knownTypesText, plural } from './resource-types.js';
import { parseSelector } from './selectors.js';
import { warnIfNoController, watchedDirOf } from './stored-state.js';
import { StateReader } from '../adapters/store/state-reader.js';
import { usage, UsageError } from './usage.js';
import { watchChanges, type WatchEvent } from './watch.js';

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
  const listing = await listingFor(query, flags);
  const notFound = () => {
    process.stderr.write(`Error from server (NotFound): ${plural(kind)} "${name}" not found in namespace ${query.namespace}\n`);
    return 1;
  };
  try {
    const token = listing.changeToken();
    if (!values.watch && (output === 'yaml' || output === 'json')) {
      const objects = listing.list();
      if (name && !objects.length) return notFound();
      const body = name ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects };
      process.stdout.write(output === 'yaml' ? (await import('yaml')).stringify(body) : JSON.stringify(body, null, 2) + '\n');
      return 0;
    }
    // Each object becomes its line (or row) as it is read; only a watch keeps the objects, to compare later lists with.
    const print = await printer(kind, output, query.namespace === undefined, values['output-watch-events'] === true);
    const first: Resource<any, any>[] = [];
    let count = 0;
    listing.each((object) => {
      count++;
      print.add(object);
      if (values.watch) first.push(object);
    });
    if (name && !count && !values.watch) return notFound();
    if (!count && output !== 'name') process.stderr.write(`No resources found${query.namespace ? ` in ${query.namespace} namespace` : ''}.\n`);
    if (count) process.stdout.write(print.initial()); // one write, however long the list
    if (values.watch) await watchChanges(listing, token, first, (event, o) => void process.stdout.write(print.change(event, o)), signal ?? stopSignal());
    return 0;
  } finally {
    listing.close();
  }
}

/** VMs and stations from the state database (warning when no controller runs); policies from the directory. */
async function listingFor(query: Query, flags: { dir: string | undefined; 'state-dir': string | undefined }): Promise<Listing> {
  if (query.kind === SHAPING_POLICY_KIND) return (await import('./declared-listing.js')).declaredListing(watchedDirOf(flags) ?? EXAMPLES_DIR, query);
  const stateDir = stateDirFor(flags);
  const reader = StateReader.open(stateDir);
  try {
    warnIfNoController(stateDir, reader, flags.dir);
  } catch (err) {
    reader?.close();
    throw err;
  }
  return storedListing(stateDir, query, reader); // the same connection: one open of the database
}

/** The text `get` prints: the first list, object by object, then one object per change (a table row, a name, or a document). */
interface Printer {
  /** Takes the next object of the first list. */
  add(object: Resource<any, any>): void;
  /** The first list's text. */
  initial(): string;
  change(event: WatchEvent, object: Resource<any, any>): string;
}

function perObject(text: (o: Resource<any, any>) => string): Printer {
  const lines: string[] = [];
  return { add: (o) => void lines.push(text(o)), initial: () => lines.join(''), change: (_, o) => text(o) };
}

/** A table's header comes before its first row, whether that is in the first list or a later change. */
async function printer(kind: string, output: string, allNamespaces: boolean, withEvents: boolean): Promise<Printer> {
  if (output === 'name') return perObject((o) => nameLine(o) + '\n');
  if (output === 'yaml') {
    const { stringify } = await import('yaml'); // only for documents
    return perObject((o) => '---\n' + stringify(o));
  }
  if (output === 'json') return perObject((o) => JSON.stringify(o, null, 2) + '\n');
  const columns = columnsFor(kind, output === 'wide', allNamespaces);
  const headers = [...(withEvents ? ['EVENT'] : []), ...columns.headers];
  const rows: string[][] = []; // the first list's cells, each computed once
  let widths: number[] | undefined;
  // Widths from the first list (EVENT as wide as MODIFIED); later lines keep them where they fit.
  const widthsOfFirst = () => [...(withEvents ? [rows.length ? 'MODIFIED'.length : 'EVENT'.length] : []), ...columnWidths(columns.headers, rows)];
  let headerDone = false;
  const header = () => {
    widths ??= widthsOfFirst();
    if (headerDone) return '';
    headerDone = true;
    return tableLine(headers, widths) + '\n';
  };
  return {
    add: (o) => void rows.push(columns.row(o)),
    initial: () => {
      let text = header();
      for (const row of rows) text += tableLine(withEvents ? ['ADDED', ...row] : row, widths!) + '\n';
      return text;
    },
    change: (event, o) => header() + tableLine([...(withEvents ? [event] : []), ...columns.row(o)], widths!) + '\n',
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
