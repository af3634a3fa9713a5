// `wimaxvm create NAME --image I --memory M --vcpus N [--hours H]`: Nimbus's
// `cloud-client --run --name N --hours H` as kubectl create: it writes the VM's declaration
// (a new file in the watched directory, or the object through the API server), never the
// domain; the controller does the rest.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { API_VERSION, DEFAULT_NAMESPACE } from '../api/meta.js';
import { RUN_STRATEGIES, VM_KIND } from '../api/virtual-machine.js';
import { DEFAULTS } from '../config.js';
import type { NewResource } from '../ports/desired-state-writer.js';
import { CREATE_OPTIONS } from './command-options.js';
import { checkLogLevel, DIR_ENV } from './common-flags.js';
import { declaredSource, writerFor, type SourceFlags } from './declared-source.js';
import { usage, UsageError } from './usage.js';

/** "2" -> "2h", "0.5" -> "30m": a lease's duration from Nimbus's --hours. */
export function leaseDuration(hours: string): string {
  if (!/^\d+(\.\d+)?$/.test(hours) || Number(hours) <= 0) throw new UsageError(`--hours: expected a positive number of hours, got ${JSON.stringify(hours)}`);
  const h = Number(hours);
  if (Number.isInteger(h)) return `${h}h`;
  const minutes = h * 60;
  if (Math.abs(minutes - Math.round(minutes)) > 1e-9) throw new UsageError(`--hours ${hours} is not a whole number of minutes`);
  return `${Math.round(minutes)}m`;
}

function wholeNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag}: expected a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** `--dry-run` alone means `--dry-run=client`, as kubectl's. */
function withDryRunDefault(args: string[]): string[] {
  return args.map((a) => (a === '--dry-run' ? '--dry-run=client' : a));
}

/** The object the flags declare; the schema (file mode) or the API server judges the values. */
export function vmFromFlags(name: string, namespace: string, v: { image?: string[]; memory?: string; vcpus?: string; hours?: string; vlan?: string; 'run-strategy'?: string }): NewResource {
  if (!v.memory) throw new UsageError('create needs --memory (e.g. 512Mi)');
  const vcpus = wholeNumber('vcpus', v.vcpus);
  if (vcpus === undefined) throw new UsageError('create needs --vcpus (e.g. 1)');
  const strategy = v['run-strategy'];
  if (strategy !== undefined && !(RUN_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new UsageError(`--run-strategy: expected ${RUN_STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`);
  }
  const vlan = wholeNumber('vlan', v.vlan);
  const spec: Record<string, unknown> = {
    runStrategy: strategy ?? 'Always',
    memory: v.memory,
    vcpus,
    ...(v.image?.length ? { disks: v.image.map((image) => ({ image })) } : {}),
    ...(vlan !== undefined ? { network: { vlan } } : {}),
    ...(v.hours !== undefined ? { lease: { duration: leaseDuration(v.hours) } } : {}),
  };
  return { apiVersion: API_VERSION, kind: VM_KIND, metadata: { name, namespace }, spec };
}

export async function create(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: withDryRunDefault(args), options: CREATE_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return (process.stdout.write(usage('create') + '\n'), 0);
  checkLogLevel(values['log-level']);
  if (positionals.length !== 1) throw new UsageError(`create takes one NAME; see 'wimaxvm help create'`);
  const dryRun = values['dry-run'];
  if (dryRun !== undefined && dryRun !== 'client') throw new UsageError(`--dry-run: only client is supported, got ${JSON.stringify(dryRun)}`);
  const output = values.output;
  if (output !== undefined && !['yaml', 'json', 'name'].includes(output)) throw new UsageError(`-o: expected yaml, json or name, got ${JSON.stringify(output)}`);
  const object = vmFromFlags(positionals[0]!, values.namespace ?? DEFAULT_NAMESPACE, values);
  const source = declaredSource(values as SourceFlags);
  if (!source && dryRun === undefined) throw new UsageError(`create writes a declaration: name the watched directory with --dir DIR or ${DIR_ENV}=DIR, or --source kube`);

  if (dryRun === undefined) {
    await (await writerFor(source!)).create(object);
    if (source!.kind === 'dir') warnOfMissingImages(object, values['image-dir']);
  } else {
    // Judged as the controller and `apply` would judge it, without writing it.
    const { validateResource } = await import('../api/schema.js');
    const check = validateResource(object);
    if (!check.ok) {
      for (const e of check.errors) process.stderr.write(`error: ${e.message}\n`);
      return 1;
    }
  }
  const done = `virtualmachine.wimaxvm.io/${object.metadata.name} created${dryRun ? ' (dry run)' : ''}`;
  if (output === 'yaml') process.stdout.write((await import('yaml')).stringify(object));
  else if (output === 'json') process.stdout.write(JSON.stringify(object, null, 2) + '\n');
  else process.stdout.write(`${output === 'name' ? `virtualmachine.wimaxvm.io/${object.metadata.name}` : done}\n`);
  return 0;
}

/** The controller will say ImageNotFound; saying it now spares a round trip. A warning: the controller's --image-dir may be another. */
function warnOfMissingImages(object: NewResource, imageDirFlag: string | undefined): void {
  const imageDir = resolve(imageDirFlag ?? DEFAULTS.imageDir);
  for (const { image } of (object.spec.disks as { image: string }[] | undefined) ?? []) {
    if (!existsSync(join(imageDir, image))) process.stderr.write(`warning: image ${image} is not in ${imageDir} (wimaxvm image import FILE); the VM waits for it\n`);
  }
}
