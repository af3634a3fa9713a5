// node:child_process's execFile and spawn, each spawn counted (call-counters.ts) before it is
// made: adapters import these instead of node's, so /metrics shows every process the controller
// starts, by command, without a count at each call site.
import * as childProcess from 'node:child_process';
import { promisify } from 'node:util';
import { countSpawn } from './call-counters.js';

const argsOf = (rest: unknown[]): string[] => (Array.isArray(rest[0]) ? rest[0] as string[] : []);

export const execFile = ((file: string, ...rest: unknown[]) => {
  countSpawn(file, argsOf(rest));
  return (childProcess.execFile as (...a: unknown[]) => childProcess.ChildProcess)(file, ...rest);
}) as typeof childProcess.execFile;
// promisify(execFile) resolves { stdout, stderr } through node's own custom form: keep that.
const execFileAsync = promisify(childProcess.execFile) as (...a: unknown[]) => Promise<unknown>;
Object.defineProperty(execFile, promisify.custom, {
  value: (file: string, ...rest: unknown[]) => {
    countSpawn(file, argsOf(rest));
    return execFileAsync(file, ...rest);
  },
});

export const spawn = ((command: string, ...rest: unknown[]) => {
  countSpawn(command, argsOf(rest));
  return (childProcess.spawn as (...a: unknown[]) => childProcess.ChildProcess)(command, ...rest);
}) as typeof childProcess.spawn;
