// The manifest parse worker, except that a file named stuck.yaml is never answered: its parse
// blocks the worker until the pool terminates it (the real parser, dist/, for every other file).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { parseManifests } = await import(pathToFileURL(join(root, 'dist/src/sources/manifest-parser.js')).href);

parentPort.on('message', ({ id, text, file }) => {
  if (file === 'stuck.yaml') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  parentPort.postMessage({ id, result: parseManifests(text, file) });
});
parentPort.postMessage({ ready: true });
