// Worker thread entry of the manifest parse pool: parses what it is sent, answers with the result.
import { parentPort } from 'node:worker_threads';
import { parseManifests } from './manifest-parser.js';

export interface ParseRequest {
  id: number;
  text: string;
  file: string;
}

/** The worker's first message: it is loaded and warm, and the pool starts budgets only now. */
export interface WorkerReady {
  ready: true;
}

// Compiles the CRD schemas before the first file (half a second of CPU, many seconds on a loaded
// machine): charged to no file's budget, so a slow start never fails a good file.
parseManifests('apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: warm-up\nspec:\n  memory: 64Mi\n', 'warm-up.yaml');

parentPort!.on('message', ({ id, text, file }: ParseRequest) => {
  parentPort!.postMessage({ id, result: parseManifests(text, file) });
});
parentPort!.postMessage({ ready: true } satisfies WorkerReady);
