// How the reading commands reach a controller's state: the same state directory `run` derives
// from the watched directory (or --state-dir), read with one query, and a one-line warning when
// no controller is running, with the age of what is shown.
import { resolve } from 'node:path';
import { readLockHolder } from '../adapters/store/controller-lock.js';
import { StateReader } from '../adapters/store/state-reader.js';
import { stateDirFor } from '../config.js';
import { age } from './output.js';

export interface StateFlags {
  dir?: string | undefined;
  'state-dir'?: string | undefined;
}

/** Runs `read` on the controller's state (undefined reader: nothing stored yet), warning first if no controller runs. */
export function withStoredState<T>(flags: StateFlags, read: (reader: StateReader | undefined) => T): T {
  const stateDir = stateDirFor(flags);
  const reader = StateReader.open(stateDir);
  try {
    warnIfNoController(stateDir, reader, flags.dir);
    return read(reader);
  } finally {
    reader?.close();
  }
}

/** The directory the controller of `flags` watches: --dir, else what its database says. */
export function watchedDirOf(flags: StateFlags): string | undefined {
  if (flags.dir) return resolve(flags.dir);
  const reader = StateReader.open(stateDirFor(flags));
  try {
    return reader?.watchedDirectory();
  } finally {
    reader?.close();
  }
}

export function warnIfNoController(stateDir: string, reader: StateReader | undefined, dirFlag: string | undefined): void {
  if (readLockHolder(stateDir)) return;
  const dir = dirFlag ? resolve(dirFlag) : reader?.watchedDirectory() ?? stateDir;
  const newest = reader?.newestWrite();
  process.stderr.write(newest === undefined
    ? `no controller is running for ${dir}; no status has been recorded in ${stateDir}\n`
    : `no controller is running for ${dir}; showing status as of ${age(new Date(newest).toISOString())} ago\n`);
}
