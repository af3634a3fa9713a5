// One controller per state database. The holder keeps a write transaction open on a small lock
// database (controller.lock, next to state.db) for its whole life: SQLite's POSIX locks vanish
// with the process, so a crashed controller never blocks the next one. Who holds the lock (pid,
// host, directory, ...) is written to state.db once the lock is taken, where others can read it.
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { errorMessage } from '../../core/logger.js';
import { openStateDatabase, openStateDatabaseReadOnly, StateStoreError, stateDbPath, type SqliteDatabase } from './state-database.js';

export const LOCK_FILE = 'controller.lock';

export interface LockHolder {
  pid: number;
  hostname: string;
  /** The watched directory (file mode). */
  directory: string;
  /** The controller's ownership identity, as written into the domains it creates. */
  identity: string;
  /** Where its HTTP API listens ("127.0.0.1:5012"), or "off". */
  listen: string;
  /** Its libvirt URI (absent in facts an older wimaxvm wrote): where `wimaxvm console` and `adopt` connect by default. */
  connect?: string;
  startedAt: string;
}

export type LockHolderInput = Omit<LockHolder, 'pid' | 'hostname' | 'startedAt'> & Partial<Pick<LockHolder, 'pid' | 'hostname' | 'startedAt'>>;

export interface ControllerLock {
  readonly holder: LockHolder;
  /** The state database the lock guards. */
  readonly path: string;
  release(): void;
}

/** Another controller runs on this state directory; `holder` names it (when it could be read). */
export class LockHeldError extends Error {
  constructor(readonly holder: LockHolder | undefined, readonly path: string) {
    super(holder
      ? `another wimaxvm controller (pid ${holder.pid} on ${holder.hostname}, directory ${holder.directory}, started ${holder.startedAt}) holds ${path}`
      : `another wimaxvm controller holds ${path}`);
    this.name = 'LockHeldError';
  }
}

const isBusy = (err: unknown): boolean => /^SQLITE_BUSY/.test(String((err as { code?: unknown }).code));

/**
 * Takes the controller lock of `stateDir`, or throws LockHeldError naming the running controller.
 * `waitMs` covers a CLI's probe (readLockHolder) holding it for a moment, never a live controller.
 */
export function acquireControllerLock(stateDir: string, input: LockHolderInput, waitMs = 1000): ControllerLock {
  const path = stateDbPath(stateDir);
  let lock: SqliteDatabase;
  try {
    mkdirSync(stateDir, { recursive: true });
    accessSync(stateDir, constants.W_OK); // says "read-only file system" where SQLite would say "unable to open"
    lock = openLockDatabase(join(stateDir, LOCK_FILE), { timeout: waitMs });
  } catch (err) {
    throw new StateStoreError(`cannot open the controller lock in ${stateDir}: ${errorMessage(err)}`, (err as { code?: string }).code);
  }
  try {
    lock.exec('BEGIN IMMEDIATE');
  } catch (err) {
    lock.close();
    if (isBusy(err)) throw new LockHeldError(readHolderFacts(stateDir), path);
    throw new StateStoreError(`cannot take the controller lock in ${stateDir}: ${errorMessage(err)}`, (err as { code?: string }).code);
  }
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), ...input };
  try {
    writeHolderFacts(stateDir, holder);
  } catch (err) {
    lock.close();
    throw err;
  }
  let released = false;
  return {
    holder, path,
    release() {
      if (released) return;
      released = true;
      try {
        writeHolderFacts(stateDir, undefined);
      } catch {
        // A full disk: the facts stay, but the lock below is what readers trust.
      }
      lock.close(); // rolls the open transaction back and drops the lock
    },
  };
}

/** Who holds the lock of `stateDir`, or undefined when no controller runs on it. */
export function readLockHolder(stateDir: string): LockHolder | undefined {
  const lockPath = join(stateDir, LOCK_FILE);
  if (!existsSync(lockPath)) return undefined;
  // Another reader's probe may hold the lock for a moment: then the facts name a process that
  // is gone (or none), and a second look settles it.
  for (let attempt = 0; attempt < 40; attempt++) {
    let held: boolean;
    try {
      held = probe(lockPath);
    } catch {
      // Cannot take even a probe (a read-only state directory, another user's files): the facts must do.
      const facts = readHolderFacts(stateDir);
      return facts && isAlive(facts) ? facts : undefined;
    }
    if (!held) return undefined;
    const facts = readHolderFacts(stateDir);
    if (facts && isAlive(facts)) return facts;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
  }
  return readHolderFacts(stateDir) ?? { pid: 0, hostname: '?', directory: '?', identity: '?', listen: '?', startedAt: '?' };
}

/**
 * The lock database is never written; its journal stays in memory, so taking the lock on a
 * fresh (empty) file leaves no controller.lock-journal beside it.
 */
function openLockDatabase(path: string, options: Database.Options): SqliteDatabase {
  const db = new Database(path, options);
  db.pragma('journal_mode = MEMORY');
  return db;
}

/** True when someone holds the lock. */
function probe(lockPath: string): boolean {
  const db = openLockDatabase(lockPath, { fileMustExist: true, timeout: 0 });
  try {
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
    return false;
  } catch (err) {
    if (isBusy(err)) return true;
    throw err;
  } finally {
    db.close();
  }
}

/** A process on this host must exist; one elsewhere cannot be checked from here. */
function isAlive(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return true;
  try {
    process.kill(holder.pid, 0); // signal 0: a check, nothing is sent
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

function readHolderFacts(stateDir: string): LockHolder | undefined {
  try {
    const state = openStateDatabaseReadOnly(stateDir);
    if (!state) return undefined;
    try {
      const row = state.db.prepare<[], { facts: string }>('SELECT facts FROM lock_holder WHERE id = 1').get();
      return row ? (JSON.parse(row.facts) as LockHolder) : undefined;
    } finally {
      state.close();
    }
  } catch {
    return undefined;
  }
}

function writeHolderFacts(stateDir: string, holder: LockHolder | undefined): void {
  const state = openStateDatabase(stateDir);
  try {
    if (holder) state.db.prepare('INSERT INTO lock_holder (id, facts) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET facts = excluded.facts').run(JSON.stringify(holder));
    else state.db.prepare('DELETE FROM lock_holder').run();
  } catch (err) {
    throw new StateStoreError(`cannot record the lock holder in ${state.path}: ${errorMessage(err)}`, (err as { code?: string }).code);
  } finally {
    state.close();
  }
}
