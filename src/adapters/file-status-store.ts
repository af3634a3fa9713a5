// File-mode status: one YAML per resource under the state directory, the same shape as
// `kubectl get -o yaml` (metadata, spec, status), written atomically (temp file + rename).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { toYaml } from './yaml-emitter.js';
import { parseResourceKey, resourceKey, type Resource, type ResourceKey } from '../api/meta.js';
import type { StatusStore } from '../ports/status-store.js';

export function kindDirectory(kind: string): string {
  return kind.toLowerCase() + 's';
}

export class FileStatusStore implements StatusStore {
  private readonly objects = new Map<ResourceKey, Resource<unknown, any>>();
  private readonly madeDirs = new Set<string>();
  private seq = 0;

  constructor(readonly stateDir: string) {}

  /** Reads every stored object; call once before the first reconcile. */
  load(kinds: string[]): this {
    for (const kind of kinds) {
      const base = join(this.stateDir, kindDirectory(kind));
      if (!existsSync(base)) continue;
      for (const namespace of readdirSync(base)) {
        for (const file of readdirSync(join(base, namespace))) {
          if (!file.endsWith('.yaml')) continue;
          try {
            const object = parse(readFileSync(join(base, namespace, file), 'utf8')) as Resource<unknown, unknown>;
            if (object?.metadata?.name) this.objects.set(resourceKey(kind, namespace, object.metadata.name), object);
          } catch {
            // A torn or hand-edited file: the next reconcile writes it again.
          }
        }
      }
    }
    return this;
  }

  get(key: ResourceKey): Resource<unknown, any> | undefined {
    return this.objects.get(key);
  }

  list(kind: string): Resource<unknown, any>[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${kind}/`)).map(([, v]) => v);
  }

  // Synchronous on purpose: a status file is a few hundred bytes in the page cache, and a
  // sync write costs less than the thread-pool round trips of an async one (bench/converge.ts).
  async write(key: ResourceKey, object: Resource<unknown, unknown>): Promise<void> {
    this.objects.set(key, structuredClone(object));
    const { dir, path } = this.pathOf(key);
    if (!this.madeDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    const tmp = `${path}.tmp-${process.pid}-${this.seq++}`;
    writeFileSync(tmp, toYaml(object as unknown as Record<string, unknown>));
    renameSync(tmp, path);
  }

  async remove(key: ResourceKey): Promise<void> {
    this.objects.delete(key);
    rmSync(this.pathOf(key).path, { force: true });
  }

  private pathOf(key: ResourceKey): { dir: string; path: string } {
    const { kind, namespace, name } = parseResourceKey(key);
    const dir = join(this.stateDir, kindDirectory(kind), namespace);
    return { dir, path: join(dir, `${name}.yaml`) };
  }
}

/** Reads one stored object without starting a controller (for the CLI). */
export function readStoredObject(stateDir: string, kind: string, namespace: string, name: string): Resource<unknown, any> | undefined {
  const path = join(stateDir, kindDirectory(kind), namespace, `${name}.yaml`);
  if (!existsSync(path)) return undefined;
  return parse(readFileSync(path, 'utf8')) as Resource<unknown, any>;
}

export function ensureDir(path: string): void {
  mkdirSync(path, { recursive: true });
}
