// Worker thread entry of the manifest parse pool: parses what it is sent, answers with the result.
import { parentPort } from 'node:worker_threads';
import { parseManifests } from './manifest-parser.js';

export interface ParseRequest {
  id: number;
  text: string;
  file: string;
}

parentPort!.on('message', ({ id, text, file }: ParseRequest) => {
  parentPort!.postMessage({ id, result: parseManifests(text, file) });
});
