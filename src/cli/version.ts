// `wimaxvm version` and `wimaxvm --version`: the package's version, as package.json says it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';
import { parseArgs } from 'node:util';
import { checkLogLevel, COMMON_OPTIONS } from './common-flags.js';
import { usage, UsageError } from './usage.js';

export const PACKAGE_VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export function version(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: COMMON_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return (process.stdout.write(usage('version') + '\n'), 0);
  checkLogLevel(values['log-level']);
  if (positionals.length) throw new UsageError(`version takes no arguments, got ${positionals.join(' ')}`);
  process.stdout.write(`wimaxvm ${PACKAGE_VERSION}\n`);
  return 0;
}
