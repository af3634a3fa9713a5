// `wimaxvm version` and `wimaxvm --version`: the package's version, as package.json says it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';
import { UsageError } from './usage.js';

export const PACKAGE_VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export function version(args: string[]): number {
  if (args.length) throw new UsageError(`version takes no arguments, got ${args.join(' ')}`);
  process.stdout.write(`wimaxvm ${PACKAGE_VERSION}\n`);
  return 0;
}
