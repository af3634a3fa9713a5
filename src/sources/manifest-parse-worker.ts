// Worker thread entry of the manifest parse pool: parses what it is sent, answers with the result.
import { parentPort } from 'node:worker_threads';
import { knownKinds } from '../api/schema.js';
import { parseManifests } from './manifest-parser.js';

export interface ParseRequest {
  id: number;
  text: string;
  file: string;
}

parentPort!.on('message', ({ id, text, file }: ParseRequest) => {
  parentPort!.postMessage({ id, result: parseManifests(text, file) });
});

// Compile the CRD validators now and say so: a parse's time budget starts only then, so a
// worker slow to start on a loaded host does not fail the first file it is given.
knownKinds();
parentPort!.postMessage({ ready: true });
