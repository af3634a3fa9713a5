// `wimaxvm image import|list|rm`: the image directory, the way Nimbus's `--transfer` filled it,
// with the checks of src/images/. Exit codes as every command: 0, 1 (refused, failed), 2 (usage),
// 130 for an import interrupted with Ctrl-C (nothing imported).
import { parseArgs } from 'node:util';
import { rm as removeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULTS } from '../config.js';
import { formatBytes } from '../traffic/format.js';
import { imageNameProblem } from '../images/image-names.js';
import { usageOf, type DeclaredDisks } from '../images/image-usage.js';
import { IMAGE_OPTIONS } from './command-options.js';
import { checkLogLevel } from './common-flags.js';
import { declaredSource, declaredVms, NO_SOURCE, vmLabel, type DeclaredSource, type SourceFlags } from './declared-source.js';
import { table } from './output.js';
import { usage, UsageError } from './usage.js';

export async function image(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'import': return importCommand(rest);
    case 'list': case 'ls': return listCommand(rest);
    case 'rm': case 'remove': return rmCommand(rest);
    case '--help': case '-h': case 'help': return (process.stdout.write(usage('image') + '\n'), 0);
    case undefined: throw new UsageError('image needs a subcommand: import, list or rm');
    default: throw new UsageError(`image: unknown subcommand ${JSON.stringify(sub)} (import, list or rm)`);
  }
}

function parse<O extends (typeof IMAGE_OPTIONS)[keyof typeof IMAGE_OPTIONS]>(args: string[], options: O) {
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  const values = parsed.values as { help?: boolean; 'log-level'?: string; 'image-dir'?: string };
  checkLogLevel(values['log-level']);
  return { ...parsed, imageDir: resolve(values['image-dir'] ?? DEFAULTS.imageDir), help: values.help === true };
}

async function importCommand(args: string[]): Promise<number> {
  const { values, positionals, imageDir, help } = parse(args, IMAGE_OPTIONS.import);
  if (help) return (process.stdout.write(usage('image') + '\n'), 0);
  if (positionals.length !== 1) throw new UsageError('image import takes one FILE');
  const { importImage } = await import('../images/image-import.js');
  const { Progress } = await import('../images/progress.js');
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const label = values.name ?? positionals[0]!.split('/').pop()!;
    const done = await importImage({
      file: positionals[0]!, ...(values.name !== undefined ? { name: values.name } : {}), imageDir, signal: stop.signal,
      progress: (total) => new Progress({
        label, total, write: (text) => void process.stderr.write(text),
        columns: process.stderr.isTTY ? process.stderr.columns || 80 : undefined,
      }),
    });
    process.stdout.write(`image/${done.name} imported (${done.format}, ${formatBytes(done.virtualSize)} virtual, ${formatBytes(done.bytes)} copied) into ${imageDir}\n`);
    return 0;
  } catch (err) {
    if (stop.signal.aborted) {
      process.stderr.write('interrupted: nothing was imported\n');
      return 130;
    }
    throw err;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

/** The declared VMs' disks, or undefined when no source is named (list then cannot say). */
async function declaredDisks(source: DeclaredSource | undefined): Promise<DeclaredDisks[] | undefined> {
  if (!source) return undefined;
  return (await declaredVms(source)).map((vm) => ({ vm: vmLabel(vm), images: (vm.spec?.disks ?? []).map((d) => d.image) }));
}

async function listCommand(args: string[]): Promise<number> {
  const { values, positionals, imageDir, help } = parse(args, IMAGE_OPTIONS.list);
  if (help) return (process.stdout.write(usage('image') + '\n'), 0);
  if (positionals.length) throw new UsageError('image list takes no arguments');
  const output = values.output ?? '';
  if (!['', 'wide', 'yaml', 'json'].includes(output)) throw new UsageError(`-o: expected wide, yaml or json, got ${JSON.stringify(output)}`);
  const source = declaredSource(values as SourceFlags);
  const [{ listImages }, disks] = await Promise.all([import('../images/image-catalog.js'), declaredDisks(source)]);
  const entries = await listImages(imageDir);
  const used = disks ? usageOf(entries, disks) : undefined;
  if (!source) process.stderr.write(`warning: USED-BY is unknown: ${NO_SOURCE}\n`);
  const items = entries.map((e) => {
    const u = used?.get(e.name);
    return {
      name: e.name, format: e.format ?? null, virtualSize: e.virtualSize ?? null, actualSize: e.actualSize ?? null,
      usedBy: u ? { vms: u.vms, images: u.images } : null, backing: e.backing ?? null, refused: e.refused ?? null,
    };
  });
  if (output === 'json' || output === 'yaml') {
    const body = { apiVersion: 'v1', kind: 'List', items };
    process.stdout.write(output === 'json' ? JSON.stringify(body, null, 2) + '\n' : (await import('yaml')).stringify(body));
    return 0;
  }
  if (!items.length) {
    process.stderr.write(`No images in ${imageDir}.\n`);
    return 0;
  }
  const none = (v: unknown) => (v === null || v === undefined || v === '' ? '<none>' : String(v));
  const size = (n: number | null) => (n === null ? '<unknown>' : formatBytes(n));
  const wide = output === 'wide';
  const rows = items.map((i) => [
    i.name, i.refused ? `${i.format ?? 'unknown'} (refused)` : none(i.format), size(i.virtualSize), size(i.actualSize),
    i.usedBy ? none([...i.usedBy.vms, ...i.usedBy.images.map((n) => `image/${n}`)].join(',')) : '<unknown>',
    ...(wide ? [none(i.backing), none(i.refused)] : []),
  ]);
  process.stdout.write(table(['NAME', 'FORMAT', 'VIRTUAL', 'ACTUAL', 'USED-BY', ...(wide ? ['BACKING', 'REFUSED'] : [])], rows) + '\n');
  return 0;
}

async function rmCommand(args: string[]): Promise<number> {
  const { values, positionals, imageDir, help } = parse(args, IMAGE_OPTIONS.rm);
  if (help) return (process.stdout.write(usage('image') + '\n'), 0);
  if (!positionals.length) throw new UsageError('image rm takes one or more NAMEs');
  for (const name of positionals) {
    const problem = imageNameProblem(name, { folders: true });
    if (problem) throw new UsageError(problem);
  }
  const source = declaredSource(values as SourceFlags);
  // Without the declarations there is no telling whether a VM needs it: refused, not guessed.
  if (!source) throw new UsageError(`image rm checks that no VM uses the image: ${NO_SOURCE}`);
  const { listImages } = await import('../images/image-catalog.js');
  const [entries, disks] = await Promise.all([listImages(imageDir), declaredDisks(source)]);
  const used = usageOf(entries, disks!);
  let failed = 0;
  for (const name of positionals) {
    const u = used.get(name);
    if (!u) {
      process.stderr.write(`error: no image ${JSON.stringify(name)} in ${imageDir}\n`);
      failed++;
      continue;
    }
    const users = [...u.vms.map((vm) => `virtualmachine/${vm}`), ...u.images.map((i) => `image/${i} (its backing file)`)];
    if (users.length) {
      process.stderr.write(`error: image ${name} is in use by ${users.join(', ')}: remove ${u.vms.length ? 'those VMs\' disks' : 'those images'} first\n`);
      failed++;
      continue;
    }
    await removeFile(join(imageDir, name));
    process.stdout.write(`image/${name} removed\n`);
  }
  return failed ? 1 : 0;
}
