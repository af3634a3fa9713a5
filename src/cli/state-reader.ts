// What the CLI reads in file mode: the status files a controller writes to the state directory.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Resource } from '../api/meta.js';
import { kindDirectory } from '../adapters/file-status-store.js';

export function listStoredObjects(stateDir: string, kind: string, namespace?: string): Resource<any, any>[] {
  const base = join(stateDir, kindDirectory(kind));
  if (!existsSync(base)) return [];
  const namespaces = namespace ? [namespace] : readdirSync(base).sort();
  const out: Resource<any, any>[] = [];
  for (const ns of namespaces) {
    const dir = join(base, ns);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
      try {
        out.push(parse(readFileSync(join(dir, file), 'utf8')) as Resource<any, any>);
      } catch {
        /* being replaced right now */
      }
    }
  }
  return out;
}
