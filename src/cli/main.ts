// wimaxvm's command line. `run` is the controller; the other commands read what it wrote or
// change desired state by editing the declared YAML. Exit codes (documented in `wimaxvm help`
// and README): 0 ok, 1 failure or invalid input, 2 usage error.
import { parseArgs } from 'node:util';
import { buildConfig, ConfigError, type Config } from '../config.js';
import { createLogger, errorMessage } from '../core/logger.js';
import { startController } from '../main.js';
import { DesiredStateError } from '../ports/desired-state-writer.js';
import { parseManifestFile } from '../sources/manifest-parse-pool.js';
import { formatManifestError, type ParsedFile } from '../sources/manifest-parser.js';
import { addClient, apply, power, remove, restart } from './edit-commands.js';
import { describe, get, vmlist, vmstat } from './read-commands.js';
import { COMMANDS, UsageError, usage } from './usage.js';

const RUN_OPTIONS = {
  dir: { type: 'string' }, connect: { type: 'string' }, 'state-dir': { type: 'string' }, 'image-dir': { type: 'string' },
  'overlay-dir': { type: 'string' }, workers: { type: 'string' }, resync: { type: 'string' }, poll: { type: 'string' },
  'shutdown-timeout': { type: 'string' }, nic: { type: 'string' }, uplink: { type: 'string' }, 'vlan-range': { type: 'string' },
  listen: { type: 'string' }, 'api-token-file': { type: 'string' },
  source: { type: 'string' }, kubeconfig: { type: 'string' }, namespace: { type: 'string' }, 'node-name': { type: 'string' },
  'leader-elect': { type: 'boolean' }, 'lease-namespace': { type: 'string' }, 'lease-name': { type: 'string' }, 'vlan-claim-namespace': { type: 'string' },
  'log-level': { type: 'string' }, 'log-format': { type: 'string' },
  'allow-empty': { type: 'boolean' }, 'adopt-from': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `wimaxvm run`'s flags (also checked against the manifests' container args by the tests). */
export function parseRunArgs(args: string[]) {
  return parseArgs({ args, options: RUN_OPTIONS, allowPositionals: true, strict: true });
}

/** What the `starting` line says: the watched directory in file mode, the cluster scope in Kubernetes mode. */
export function startingFields(config: Config): Record<string, unknown> {
  const where = config.source === 'dir'
    ? { source: 'dir', dir: config.dir }
    : {
        source: 'kube', namespace: config.kube?.namespace ?? '(all)',
        ...(config.kube?.nodeName ? { nodeName: config.kube.nodeName } : {}),
        ...(config.kube?.leaderElection ? { lease: `${config.kube.leaderElection.namespace}/${config.kube.leaderElection.name}` } : {}),
      };
  return { ...where, connect: config.connect, stateDir: config.stateDir };
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseRunArgs(args);
  if (values.help) return help('run');
  if (positionals.length) throw new UsageError(`run takes no arguments, got ${positionals.join(' ')}`);
  const config = buildConfig(values);
  const logger = createLogger({ level: config.logLevel, ...(config.logFormat ? { format: config.logFormat } : {}) });
  logger.info('starting', startingFields(config));
  // Signals are taken before anything starts: a stop during the start is graceful too.
  const signalled = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    // A second Ctrl-C must not kill a stop in progress: in-flight work finishes either way.
    if (signalled.signal.aborted) logger.warn(`${name} again: still stopping gracefully`);
    signalled.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let running;
    try {
      running = await startController(config, logger, signalled.signal);
    } catch (err) {
      if (signalled.signal.aborted) {
        logger.info('stopped before it had started');
        return 0;
      }
      throw err;
    }
    const why = await new Promise<'signal' | 'lost'>((resolve) => {
      if (signalled.signal.aborted) resolve('signal');
      signalled.signal.addEventListener('abort', () => resolve('signal'), { once: true });
      void running.lostLeadership.then(() => resolve('lost'));
    });
    logger.info(why === 'lost' ? 'leadership lost: exiting so that a fresh start competes again' : 'stopping: letting in-flight reconciles finish');
    await running.stop();
    logger.info('stopped');
    return why === 'lost' ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function validate(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  if (values.help) return help('validate');
  if (!positionals.length) throw new UsageError('validate needs at least one FILE');
  let failed = 0;
  let count = 0;
  for (const file of positionals) {
    let parsed: ParsedFile;
    try {
      parsed = await parseManifestFile(file);
    } catch (err) {
      process.stderr.write(`${file}: cannot read: ${errorMessage(err)}\n`);
      failed++;
      continue;
    }
    const { resources, errors, warnings } = parsed;
    for (const w of warnings ?? []) process.stderr.write(`${w.file}:${w.line}: warning: ${w.message}\n`);
    for (const e of errors) process.stderr.write(formatManifestError(e) + '\n');
    if (errors.length) failed++;
    count += resources.length;
  }
  if (failed) {
    process.stderr.write(`${failed} of ${positionals.length} file(s) invalid\n`);
    return 1;
  }
  process.stdout.write(`${count} resource(s) in ${positionals.length} file(s) valid\n`);
  return 0;
}

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
      case 'get': return get(rest);
      case 'describe': return describe(rest);
      case 'vmlist': return vmlist(rest);
      case 'vmstat': return await vmstat(rest);
      case 'start': case 'stop': return await power(command, rest);
      case 'restart': return await restart(rest);
      case 'addclient': return await addClient(rest);
      case 'apply': return await apply(rest);
      case 'delete': return await remove(rest);
      case 'validate': return await validate(rest);
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
