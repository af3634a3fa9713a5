// `wimaxvm validate FILE...`: the controller's own checks. Each file as the directory source
// parses it, and across the files the directory source's rule for a resource declared twice
// (neither declaration would be applied): exit 1 on any error.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseResourceKey } from '../api/meta.js';
import { errorMessage } from '../core/logger.js';
import { duplicateDeclarationProblem, duplicateDeclarations } from '../sources/duplicate-declarations.js';
import { parseManifestFile } from '../sources/manifest-parse-pool.js';
import { formatManifestError } from '../sources/manifest-error.js';
import type { ParsedFile } from '../sources/manifest-parser.js';
import { checkLogLevel, COMMON_OPTIONS } from './common-flags.js';
import { usage, UsageError } from './usage.js';

export async function validate(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: COMMON_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return (process.stdout.write(usage('validate') + '\n'), 0);
  checkLogLevel(values['log-level']);
  if (!positionals.length) throw new UsageError('validate needs at least one FILE');
  const invalid = new Set<string>();
  const declared: { key: string; place: string; file: string }[] = [];
  const files = [...new Map(positionals.map((f) => [resolve(f), f])).values()]; // a file named twice is read once
  for (const file of files) {
    let parsed: ParsedFile;
    try {
      parsed = await parseManifestFile(file);
    } catch (err) {
      process.stderr.write(`${file}: cannot read: ${errorMessage(err)}\n`);
      invalid.add(file);
      continue;
    }
    const { resources, errors, warnings } = parsed;
    for (const w of warnings ?? []) process.stderr.write(`${w.file}:${w.line}: warning: ${w.message}\n`);
    for (const e of errors) process.stderr.write(formatManifestError(e) + '\n');
    if (errors.length) invalid.add(file);
    for (const r of resources) declared.push({ key: r.key, place: `${file}:${r.line}`, file });
  }
  for (const [key, places] of duplicateDeclarations(declared)) {
    const { kind, namespace, name } = parseResourceKey(key);
    const { message } = duplicateDeclarationProblem(places);
    for (const place of places) process.stderr.write(`${place}: ${kind} ${namespace}/${name} is ${message}\n`);
    for (const d of declared) if (d.key === key) invalid.add(d.file);
  }
  if (invalid.size) {
    process.stderr.write(`${invalid.size} of ${files.length} file(s) invalid\n`);
    return 1;
  }
  process.stdout.write(`${declared.length} resource(s) in ${files.length} file(s) valid\n`);
  return 0;
}
