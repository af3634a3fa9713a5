// Where the package's own files (crds/, examples/) live, both from src/ under vitest/tsx and
// from the compiled dist/src/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('wimaxvm: cannot find the package root (no package.json above the code)');
    dir = parent;
  }
  return dir;
}

export const PACKAGE_ROOT = findPackageRoot();
export const CRDS_DIR = join(PACKAGE_ROOT, 'crds');
export const EXAMPLES_DIR = join(PACKAGE_ROOT, 'examples');
