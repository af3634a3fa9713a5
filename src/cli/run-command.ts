// `wimaxvm run`: the controller, in the foreground until SIGINT or SIGTERM.
import { parseArgs } from 'node:util';
import { buildConfig, type Config } from '../config.js';
import { createLogger } from '../core/logger.js';
import { capYoungGeneration } from '../runtime/young-generation.js';
import { RUN_OPTIONS } from './command-options.js';
import { DIR_ENV } from './common-flags.js';
import { UsageError, usage } from './usage.js';

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

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseRunArgs(args);
  if (values.help) return (process.stdout.write(usage('run') + '\n'), 0);
  if (positionals.length) throw new UsageError(`run takes no arguments, got ${positionals.join(' ')}`);
  // $WIMAXVM_DIR names the watched directory for every command, run included (file mode only).
  const dirFromEnv = values.dir === undefined && (values.source ?? 'dir') === 'dir' ? process.env[DIR_ENV] || undefined : undefined;
  const config = buildConfig(dirFromEnv ? { ...values, dir: dirFromEnv } : values);
  const logger = createLogger({ level: config.logLevel, ...(config.logFormat ? { format: config.logFormat } : {}) });
  logger.info('starting', startingFields(config));
  // A long-running process: its young generation stays small (src/runtime/young-generation.ts).
  capYoungGeneration();
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
      // Loaded here: the other commands (and shell completion) start without the controller's modules.
      const { startController } = await import('../main.js');
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
