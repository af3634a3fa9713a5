// `wimaxvm adopt DOMAIN...` and the old service's `wimaxvm initvms` (every running domain): a
// declaration that matches each domain, and a claim on it through libvirt's metadata only.
import { parseArgs } from 'node:util';
import { RUN_STRATEGIES, type RunStrategy } from '../api/virtual-machine.js';
import { DEFAULTS } from '../config.js';
import { fileModeIdentity } from '../core/controller-identity.js';
import type { AdoptResult, Adopted } from '../adoption/adopt.js';
import type { AdoptionHost } from '../adoption/adoption-host.js';
import type { DesiredStateWriter } from '../ports/desired-state-writer.js';
import { ADOPT_OPTIONS } from './command-options.js';
import { checkLogLevel, dirToEdit, namedDir } from './common-flags.js';
import { libvirtUriFor } from './libvirt-uri.js';
import { UsageError, usage } from './usage.js';

type Values = ReturnType<typeof parse>['values'];

function parse(args: string[]) {
  return parseArgs({ args, options: ADOPT_OPTIONS, allowPositionals: true, strict: true });
}

/** Every flag is checked before libvirt or the declarations are touched. */
function checked(command: string, values: Values): { runStrategy?: RunStrategy; source: 'dir' | 'kube' } {
  checkLogLevel(values['log-level']);
  const source = values.source ?? 'dir';
  if (source !== 'dir' && source !== 'kube') throw new UsageError(`--source: expected dir or kube, got ${JSON.stringify(source)}`);
  if (values.output !== undefined && values.output !== 'yaml') throw new UsageError(`--output: expected yaml, got ${JSON.stringify(values.output)}`);
  if (values.output !== undefined && !values['dry-run']) throw new UsageError(`${command}: -o yaml goes with --dry-run (it prints the declarations instead of writing them)`);
  const runStrategy = values['run-strategy'];
  if (runStrategy !== undefined && !(RUN_STRATEGIES as readonly string[]).includes(runStrategy)) {
    throw new UsageError(`--run-strategy: expected ${RUN_STRATEGIES.join(', ')}, got ${JSON.stringify(runStrategy)}`);
  }
  return { ...(runStrategy !== undefined ? { runStrategy: runStrategy as RunStrategy } : {}), source };
}

async function writerFor(command: string, source: 'dir' | 'kube', values: Values): Promise<{ writer: DesiredStateWriter; where: (ns: string, name: string) => string; controller?: string }> {
  if (source === 'kube') {
    const { loadKubeConfig } = await import('../modes/kube-mode.js');
    const { KubeDesiredStateWriter } = await import('../adapters/kube-desired-state-writer.js');
    return { writer: new KubeDesiredStateWriter(loadKubeConfig(values.kubeconfig)), where: () => 'in the cluster' };
  }
  const dir = dirToEdit(command, values.dir);
  const { FileDesiredStateWriter, fileNameFor } = await import('../adapters/file-desired-state-writer.js');
  // The controller of that directory is named in the claim; in a cluster, the first controller that declares it takes it.
  return { writer: new FileDesiredStateWriter(dir), where: (ns, name) => `in ${dir}/${fileNameFor('VirtualMachine', ns, name)}`, controller: fileModeIdentity(dir) };
}

async function withHost<T>(values: Values, fn: (host: AdoptionHost) => Promise<T>): Promise<T> {
  const { LibvirtAdoptionHost } = await import('../adapters/libvirt/adoption-host.js'); // the native binding only when needed
  const host = await LibvirtAdoptionHost.open(await libvirtUriFor(values));
  try {
    return await fn(host);
  } finally {
    await host.close().catch(() => undefined);
  }
}

function summary(a: Adopted): string {
  const s = a.declaration.spec;
  const parts = [`${s.memory}`, `${s.vcpus} vCPU${s.vcpus === 1 ? '' : 's'}`, s.disks?.length ? `disks ${s.disks.map((d) => d.image).join(', ')}` : 'no disks',
    ...(s.network?.mac ? [`mac ${s.network.mac}`] : []), ...(s.network?.vlan !== undefined ? [`vlan ${s.network.vlan}`] : []), `runStrategy ${s.runStrategy}`];
  return parts.join(', ');
}

async function adoptAndReport(command: string, values: Values, domains: (host: AdoptionHost) => Promise<string[]>, legacy: boolean): Promise<number> {
  const opts = checked(command, values);
  const dryRun = values['dry-run'] ?? false;
  // A dry run needs no place to write: --dir is optional then.
  const target = dryRun && (opts.source === 'kube' || namedDir(values.dir) === undefined) ? undefined : await writerFor(command, opts.source, values);
  const results = await withHost(values, async (host) => {
    const { adoptDomains } = await import('../adoption/adopt.js');
    const names = await domains(host);
    return adoptDomains({ host, writer: dryRun || !target ? refusingWriter : target.writer, imageDir: values['image-dir'] ?? DEFAULTS.imageDir }, names, {
      ...(values.namespace !== undefined ? { namespace: values.namespace } : {}), ...(opts.runStrategy ? { runStrategy: opts.runStrategy } : {}),
      ...(target?.controller ? { controller: target.controller } : {}), dryRun,
    });
  });
  const shown = legacy ? results.filter((r) => !(r.outcome === 'refused' && r.alreadyManaged)) : results;
  if (legacy && shown.length === 0) process.stderr.write('initvms: no running domain without a declaration to adopt\n');
  if (values.output === 'yaml') {
    const { stringify } = await import('yaml');
    process.stdout.write(shown.flatMap((r) => (r.outcome === 'refused' ? [] : [stringify(r.adoption.declaration)])).join('---\n'));
  }
  for (const r of shown) report(r, legacy, values.output === 'yaml', target?.where);
  return shown.some((r) => r.outcome === 'refused') ? 1 : 0;
}

function report(r: AdoptResult, legacy: boolean, yaml: boolean, where?: (ns: string, name: string) => string): void {
  if (r.outcome === 'refused') {
    process.stderr.write(`error: domain ${r.domain} not adopted: ${r.reason}\n`);
    return;
  }
  const { name, namespace } = r.adoption.declaration.metadata as { name: string; namespace: string };
  const spec = r.adoption.declaration.spec;
  if (legacy && r.outcome === 'adopted') {
    // The old service's line (as vmlist prints it).
    process.stdout.write(`${name} VLANid  ${String(spec.network?.vlan ?? '-').padEnd(10)}mac address='${spec.network?.mac ?? ''}'/\n`);
    return;
  }
  const line = r.outcome === 'adopted'
    ? `virtualmachine/${name} adopted: domain ${r.domain} (${summary(r.adoption)}) claimed through its metadata, declared ${where?.(namespace, name) ?? ''}`
    : `virtualmachine/${name} would be adopted: domain ${r.domain} (${summary(r.adoption)}) (dry run: nothing written)`;
  (yaml ? process.stderr : process.stdout).write(line + '\n');
}

/** A dry run writes nothing: a writer that cannot. */
const refusingWriter: DesiredStateWriter = {
  create: () => Promise.reject(new Error('dry run')), patch: () => Promise.reject(new Error('dry run')), remove: () => Promise.reject(new Error('dry run')),
};

export async function adopt(args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  if (values.help) return (process.stdout.write(usage('adopt') + '\n'), 0);
  if (positionals.length === 0) throw new UsageError('adopt needs one or more DOMAIN names (wimaxvm initvms adopts every running one)');
  return adoptAndReport('adopt', values, async () => [...new Set(positionals)], false);
}

export async function initvms(args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  if (values.help) return (process.stdout.write(usage('initvms') + '\n'), 0);
  if (positionals.length) throw new UsageError('initvms takes no arguments: it adopts every running domain without a declaration');
  return adoptAndReport('initvms', values, (host) => host.activeDomainNames(), true);
}
