// Whether the object stored with a status still shows the declaration as it is: a status is
// written again when only labels or annotations changed, so that what the CLI and the legacy
// API read back (get -l, describe) follows the file (issue 15, item 10).
import type { Resource } from '../api/meta.js';

type Declared = Pick<Resource<unknown, unknown>, 'metadata' | 'spec'>;

export function sameDeclaration(stored: Declared, declared: Declared): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});
  return stored.metadata.generation === declared.metadata.generation && same(stored.spec, declared.spec)
    && same(stored.metadata.labels, declared.metadata.labels) && same(stored.metadata.annotations, declared.metadata.annotations);
}
