// `start/stop --wait`: a status counts only from a running controller (it holds the lock) that
// has observed the edit: the stored object carries the spec just written (stable JSON compare)
// and its status was computed for that generation. A status from before the edit (a VM still
// Stopping that last said Running), or one left by a controller that is gone, is never an answer.
import { join } from 'node:path';
import { parseResourceKey, type Resource, type ResourceKey } from '../api/meta.js';
import { stableStringify } from '../api/stable-json.js';
import { readLockHolder } from '../adapters/store/controller-lock.js';
import { StateReader } from '../adapters/store/state-reader.js';
import { parseManifestFile } from '../sources/manifest-parse-pool.js';
import { ManifestEditor } from '../sources/manifest-editor.js';

const POLL_MS = 100;

/** The spec of `key` as the controller will read it from the directory now (defaults applied by the parser). */
export async function declaredSpec(dir: string, key: ResourceKey): Promise<unknown> {
  const found = await new ManifestEditor(dir).find(key);
  if (!found) return undefined;
  const { resources } = await parseManifestFile(join(dir, found.file), found.file);
  return resources.find((r) => r.key === key)?.resource.spec;
}

/** True when `object` shows the controller's view of `spec`, at the generation it stored with it. */
export function observed(object: Resource<unknown, any> | undefined, spec: unknown): boolean {
  return !!object && stableStringify(object.spec) === stableStringify(spec)
    && object.status?.observedGeneration !== undefined && object.status.observedGeneration === object.metadata.generation;
}

/** Polls the state database until the stored object has observed `spec` and satisfies `done`, or `ms` pass. */
export async function waitForObserved(stateDir: string, key: ResourceKey, spec: unknown, ms: number, done: (status: any) => boolean): Promise<boolean> {
  const { kind, namespace, name } = parseResourceKey(key);
  const deadline = Date.now() + ms;
  let reader: StateReader | undefined;
  try {
    for (;;) {
      reader ??= StateReader.open(stateDir);
      const object = reader?.objects(kind, namespace, name)[0];
      if (observed(object, spec) && done(object!.status) && readLockHolder(stateDir)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
    }
  } finally {
    reader?.close();
  }
}
