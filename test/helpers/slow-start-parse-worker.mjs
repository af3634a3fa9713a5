// The manifest parse worker as it starts on a loaded machine: seconds pass before it has loaded
// (here a plain wait), then the real worker (dist/, kept current by the test setup) runs.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
await new Promise((resolve) => setTimeout(resolve, 1500));
await import(pathToFileURL(join(root, 'dist/src/sources/manifest-parse-worker.js')).href);
