// Commands that change desired state, the declarative way: they edit the YAML the controller
// watches (comments and other documents kept) and never call libvirt or the switch themselves.
import { parseArgs } from 'node:util';
import { API_VERSION, DEFAULT_NAMESPACE, resourceKey } from '../api/meta.js';
import { RESTARTED_AT_ANNOTATION, VM_KIND, type VirtualMachineStatus } from '../api/virtual-machine.js';
import { readLockHolder } from '../adapters/store/controller-lock.js';
import { CLIENT_KIND } from '../api/wimax-client.js';
import { canonicalMac } from '../allocators/mac-allocator.js';
import { FileDesiredStateWriter } from '../adapters/file-desired-state-writer.js';
import { parseDuration, stateDirFor } from '../config.js';
import { upsertDeclaration } from '../ports/desired-state-writer.js';
import { parseManifestFile } from '../sources/manifest-parse-pool.js';
import { formatManifestError } from '../sources/manifest-error.js';
import { stableStringify } from '../api/stable-json.js';
import { EDIT_OPTIONS } from './command-options.js';
import { checkLogLevel, dirToEdit } from './common-flags.js';
import { kindArg } from './resource-types.js';
import { UsageError, usage } from './usage.js';
import { declaredSpec, waitForObserved } from './wait-for-observed.js';

/**
 * Every flag and argument is checked here, before anything is changed: a bad one exits 2 with the
 * files as they were. undefined for --help.
 */
function parse<O extends (typeof EDIT_OPTIONS)[keyof typeof EDIT_OPTIONS]>(command: string, args: string[], options: O, positionalCount: number) {
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
  const flags = values as { help?: boolean; 'log-level'?: string; dir?: string; namespace?: string };
  if (flags.help) return undefined;
  checkLogLevel(flags['log-level']);
  if (positionals.length !== positionalCount) throw new UsageError(`${command} takes ${positionalCount} argument(s); see 'wimaxvm help ${command}'`);
  const dir = dirToEdit(command, flags.dir);
  return { values, positionals, dir, namespace: flags.namespace ?? DEFAULT_NAMESPACE, writer: new FileDesiredStateWriter(dir) };
}

function helped(command: string): number {
  process.stdout.write(usage(command) + '\n');
  return 0;
}

export async function power(command: 'start' | 'stop', args: string[]): Promise<number> {
  const p = parse(command, args, EDIT_OPTIONS.power, 1);
  if (!p) return helped(command);
  const name = p.positionals[0]!;
  const runStrategy = command === 'start' ? 'Always' : 'Halted';
  const waitMs = p.values.wait === undefined ? undefined : parseDuration(p.values.wait, 'wait');
  const stateDir = stateDirFor({ dir: p.dir, 'state-dir': p.values['state-dir'] });
  const key = resourceKey(VM_KIND, p.namespace, name);
  await p.writer.patch(key, [{ path: ['spec', 'runStrategy'], value: runStrategy }]);
  process.stdout.write(`virtualmachine/${name} runStrategy set to ${runStrategy}\n`);
  if (waitMs === undefined) return 0;
  const want = command === 'start' ? 'Running' : 'Stopped';
  const reached = await waitForObserved(stateDir, key, await declaredSpec(p.dir, key), waitMs, (s: VirtualMachineStatus) => s.printableStatus === want);
  if (!reached) {
    const why = readLockHolder(stateDir) ? 'the controller has not reported it yet' : `no controller is running for ${p.dir}`;
    process.stderr.write(`error: virtualmachine/${name} is not ${want} after ${p.values.wait} (${why})\n`);
    return 1;
  }
  process.stdout.write(`virtualmachine/${name} ${want}\n`);
  return 0;
}

export async function restart(args: string[]): Promise<number> {
  const p = parse('restart', args, EDIT_OPTIONS.named, 1);
  if (!p) return helped('restart');
  const name = p.positionals[0]!;
  const at = new Date().toISOString();
  await p.writer.patch(resourceKey(VM_KIND, p.namespace, name), [{ path: ['metadata', 'annotations', RESTARTED_AT_ANNOTATION], value: at }]);
  process.stdout.write(`virtualmachine/${name} restart requested at ${at}\n`);
  return 0;
}

export async function addClient(args: string[]): Promise<number> {
  const p = parse('addclient', args, EDIT_OPTIONS.named, 2);
  if (!p) return helped('addclient');
  const [mac, vmName] = p.positionals as [string, string];
  const canonical = canonicalMac(mac);
  const name = `wxc-${canonical.replace(/:/g, '')}`;
  const outcome = await upsertDeclaration(p.writer, resourceKey(CLIENT_KIND, p.namespace, name),
    { apiVersion: API_VERSION, kind: CLIENT_KIND, metadata: { name, namespace: p.namespace }, spec: { mac: canonical, vmName } },
    [{ path: ['spec', 'vmName'], value: vmName }]);
  process.stdout.write(`wimaxclient/${name} ${outcome} (${canonical} → ${vmName})\n`);
  return 0;
}

export async function apply(args: string[]): Promise<number> {
  const p = parse('apply', args, EDIT_OPTIONS.apply, 0);
  if (!p) return helped('apply');
  const file = p.values.filename;
  if (!file) throw new UsageError('apply needs -f FILE');
  const { resources, errors } = await parseManifestFile(file);
  if (errors.length) {
    for (const e of errors) process.stderr.write(formatManifestError(e) + '\n');
    return 1;
  }
  for (const { key, resource } of resources) {
    const { apiVersion, kind, metadata, spec } = resource;
    // kubectl's words: a spec already declared as it is (as the controller reads it) is left alone.
    const outcome = sameSpec(await declaredSpec(p.dir, key), spec)
      ? 'unchanged'
      : await upsertDeclaration(p.writer, key, { apiVersion, kind, metadata, spec }, [{ path: ['spec'], value: spec }]);
    process.stdout.write(`${kind.toLowerCase()}/${metadata.name} ${outcome}\n`);
  }
  return 0;
}

export async function remove(args: string[]): Promise<number> {
  const p = parse('delete', args, EDIT_OPTIONS.named, 2);
  if (!p) return helped('delete');
  const [kindName, name] = p.positionals as [string, string];
  const kind = kindArg(kindName);
  await p.writer.remove(resourceKey(kind, p.namespace, name));
  process.stdout.write(`${kind.toLowerCase()}/${name} deleted\n`);
  return 0;
}

function sameSpec(declared: unknown, spec: unknown): boolean {
  return declared !== undefined && stableStringify(declared) === stableStringify(spec);
}
