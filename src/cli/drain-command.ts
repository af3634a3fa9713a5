// `wimaxvm drain HOST`, `cordon HOST`, `uncordon HOST` (kubectl's, for Hypervisors), on the
// watched directory (--dir) or a cluster (--source kube: drain-kube.ts, the Kubernetes client
// loaded only then). drain cordons the host (spec.unschedulable) and marks it drained (the
// wimaxvm.io/drain annotation): the controller then moves every VM the scheduler placed there to
// another host (live when it runs, cold otherwise). A VM pinned there by spec.nodeName is the
// user's choice, as kubectl's pods without a controller are: drain refuses unless --force, which
// removes that spec.nodeName so the scheduler places it elsewhere. drain then prints each VM's
// progress (drain-watch.ts): exit 0 once no VM is left on the host, 1 with the reason otherwise.
import { parseArgs } from 'node:util';
import { DRAIN_ANNOTATION } from '../api/hypervisor.js';
import type { FieldChange } from '../ports/desired-state-writer.js';
import { parseDuration } from '../config.js';
import { CORDON_OPTIONS, DRAIN_OPTIONS } from './command-options.js';
import { checkLogLevel, DIR_ENV } from './common-flags.js';
import { declaredSource, type DeclaredSource } from './declared-source.js';
import { watchDrain, type DrainSource } from './drain-watch.js';
import { UsageError, usage } from './usage.js';

const DEFAULT_TIMEOUT = '10m';

/** A Hypervisor and the VMs that may be on it, where they are declared (the directory, the cluster). */
export interface DrainTarget {
  /** Changes the Hypervisor's declaration; an error naming it if it is not declared. */
  editHypervisor(changes: FieldChange[]): Promise<void>;
  /** The VMs pinned to the host by spec.nodeName: their labels and how to unpin each. */
  pinned(): Promise<{ label: string; unpin(): Promise<void> }[]>;
  /** Why nothing would move the VMs (file mode: no controller runs on the directory), if so. */
  noMover(): string | undefined;
  /** What the controller reports, for drain-watch.ts. */
  progress(): DrainSource & { close(): void };
}

interface HostArgs {
  host: string;
  source: DeclaredSource;
  values: { 'state-dir'?: string | undefined; force?: boolean | undefined; timeout?: string | undefined };
}

function parseHost(command: string, args: string[], options: typeof DRAIN_OPTIONS | typeof CORDON_OPTIONS): HostArgs | undefined {
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
  if (values.help) return undefined;
  checkLogLevel(values['log-level']);
  if (positionals.length !== 1) throw new UsageError(`${command} takes 1 argument (the hypervisor); see 'wimaxvm help ${command}'`);
  const source = declaredSource(values);
  if (!source) throw new UsageError(`${command} edits the Hypervisor's declaration: name the watched directory with --dir DIR or ${DIR_ENV}=DIR (there is no default), or --source kube`);
  if (source.kind === 'kube' && 'state-dir' in values && values['state-dir'] !== undefined) throw new UsageError('--state-dir goes with --dir, not --source kube');
  return { host: positionals[0]!, source, values: values as HostArgs['values'] };
}

async function targetFor(p: HostArgs): Promise<DrainTarget> {
  if (p.source.kind === 'kube') return (await import('./drain-kube.js')).clusterTarget(p.source.kubeconfig, p.host);
  return (await import('./drain-file.js')).directoryTarget(p.source.dir, p.host, p.values['state-dir']);
}

export async function cordon(command: 'cordon' | 'uncordon', args: string[]): Promise<number> {
  const p = parseHost(command, args, CORDON_OPTIONS);
  if (!p) return (process.stdout.write(usage(command) + '\n'), 0);
  const target = await targetFor(p);
  await target.editHypervisor(command === 'cordon'
    ? [{ path: ['spec', 'unschedulable'], value: true }]
    : [{ path: ['spec', 'unschedulable'], value: undefined }, { path: ['metadata', 'annotations', DRAIN_ANNOTATION], value: undefined }]);
  process.stdout.write(`hypervisor/${p.host} ${command}ed\n`);
  return 0;
}

export async function drain(args: string[]): Promise<number> {
  const p = parseHost('drain', args, DRAIN_OPTIONS);
  if (!p) return (process.stdout.write(usage('drain') + '\n'), 0);
  const { host } = p;
  const timeoutMs = parseDuration(p.values.timeout ?? DEFAULT_TIMEOUT, 'timeout');
  const target = await targetFor(p);
  await target.editHypervisor([{ path: ['spec', 'unschedulable'], value: true }, { path: ['metadata', 'annotations', DRAIN_ANNOTATION], value: new Date().toISOString() }]);
  process.stdout.write(`hypervisor/${host} cordoned\n`);
  const pinned = await target.pinned();
  if (pinned.length && !p.values.force) {
    process.stderr.write(`error: cannot drain hypervisor/${host}: ${pinned.length} VM(s) pinned to it by spec.nodeName (use --force to unpin them so the scheduler moves them): ${pinned.map((vm) => vm.label).join(', ')}\n`);
    return 1;
  }
  for (const vm of pinned) {
    await vm.unpin();
    process.stdout.write(`virtualmachine/${vm.label} unpinned (spec.nodeName ${host} removed)\n`);
  }
  const why = target.noMover();
  if (why) return (process.stderr.write(`error: ${why}: nothing moves the VMs off hypervisor/${host} (it stays cordoned)\n`), 1);
  const source = target.progress();
  try {
    return await watchDrain(source, host, timeoutMs, { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') });
  } finally {
    source.close();
  }
}
