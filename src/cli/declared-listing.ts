// `get`'s listing of shaping policies (and the edit commands' name completion): declarations
// in the watched directory, parsed as the controller parses them. Apart from listing.ts so that
// reading the state database never loads the YAML and schema libraries.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SOURCE_ANNOTATION, type Resource } from '../api/meta.js';
import { ManifestEditor } from '../sources/manifest-editor.js';
import { parseManifests } from '../sources/manifest-parser.js';
import { selected, type Listing, type Query } from './listing.js';

/** Declarations of `query.kind` in the watched directory, as the controller reads them (invalid files skipped). */
export function declaredListing(dir: string, query: Query): Listing {
  const editor = new ManifestEditor(dir);
  const listing: Listing = {
    list: () => editor.files().flatMap((file) => {
      const text = readIfPresent(join(dir, file));
      if (text === undefined) return [];
      const { resources } = parseManifests(text, file);
      return resources
        .filter(({ resource: r }) => r.kind === query.kind && (query.namespace === undefined || r.metadata.namespace === query.namespace)
          && (query.name === undefined || r.metadata.name === query.name))
        .map(({ resource: r, line }) => ({
          ...r, metadata: { ...r.metadata, annotations: { ...r.metadata.annotations, [SOURCE_ANNOTATION]: `${file}:${line}` } },
        }) as unknown as Resource<unknown, unknown>);
    }).filter(selected(query)).sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`)),
    changeToken: () => editor.files().map((file) => {
      const s = statSync(join(dir, file), { throwIfNoEntry: false });
      return s ? `${file}:${s.ino}:${s.size}:${s.mtimeMs}` : '';
    }).join('|'),
    each: (visit) => listing.list().forEach((o) => visit(o)),
    close: () => {},
  };
  return listing;
}

/** A file removed between listing and reading is simply not there (a watch goes on). */
function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
}
