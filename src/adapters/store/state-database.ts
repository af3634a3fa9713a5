// File mode's state: one SQLite database per controller (state.db in the state directory), in
// WAL mode so the CLI reads while the controller writes. The schema carries a version number
// (PRAGMA user_version); a database from a newer wimaxvm is refused rather than misread.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { errorMessage } from '../../core/logger.js';
import { GroupCommit } from './group-commit.js';

export const STATE_DB_FILE = 'state.db';
export const SCHEMA_VERSION = 1;

export type SqliteDatabase = Database.Database;

/** The state database cannot be opened, read or written; the message names the file and SQLite's reason. */
export class StateStoreError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'StateStoreError';
  }
}

const SCHEMA_V1 = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  -- One row per resource: metadata, spec and status as kubectl shows them (JSON).
  CREATE TABLE objects (
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    body TEXT NOT NULL,
    written_at INTEGER NOT NULL,
    PRIMARY KEY (kind, namespace, name)
  ) WITHOUT ROWID;
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    type TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL,
    count INTEGER NOT NULL, first_timestamp TEXT NOT NULL, last_timestamp TEXT NOT NULL
  );
  CREATE INDEX events_by_object ON events (kind, namespace, name, id);
  -- Who holds the controller lock (controller-lock.ts); at most one row.
  CREATE TABLE lock_holder (id INTEGER PRIMARY KEY CHECK (id = 1), facts TEXT NOT NULL);
`;

export function stateDbPath(stateDir: string): string {
  return join(stateDir, STATE_DB_FILE);
}

/** Opens (creating it and the directory if needed) the state database for writing. */
export function openStateDatabase(stateDir: string): StateDatabase {
  return new StateDatabase(openWritable(stateDir), stateDir);
}

/** The controller's SQLite page cache, KiB. */
export const CACHE_KIB = 2048;

function openWritable(stateDir: string): SqliteDatabase {
  const path = stateDbPath(stateDir);
  let db: SqliteDatabase | undefined;
  try {
    mkdirSync(stateDir, { recursive: true });
    db = new Database(path, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    // WAL with synchronous=NORMAL: a power cut may lose the last commits, never corrupt.
    db.pragma('synchronous = NORMAL');
    // A 2 MiB page cache instead of better-sqlite3's 16 MiB: the stores serve reads from memory,
    // so the cache only speeds up writes, which touch a few pages each. At 10,000 VMs the
    // database is ~30 MB and the default cache grew to its full 16 MiB of the controller's RSS.
    db.pragma(`cache_size = -${CACHE_KIB}`);
    migrate(db, path);
    // The CLI's "showing status as of" asks for MAX(written_at): answered from this index
    // instead of reading every stored body (no schema version: older readers ignore it).
    db.exec('CREATE INDEX IF NOT EXISTS objects_by_written_at ON objects (written_at)');
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof StateStoreError) throw err;
    throw new StateStoreError(`cannot open the state database ${path}: ${errorMessage(err)}`, (err as { code?: string }).code);
  }
}

/** Opens an existing state database for reading only (the CLI); undefined when there is none. */
export function openStateDatabaseReadOnly(stateDir: string): StateDatabase | undefined {
  const path = stateDbPath(stateDir);
  if (!existsSync(path)) return undefined;
  let db: SqliteDatabase;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_CANTOPEN') return undefined;
    throw new StateStoreError(`cannot open the state database ${path}: ${errorMessage(err)}`, (err as { code?: string }).code);
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === 0) {
    db.close();
    return undefined; // created a moment ago, schema not in yet
  }
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new StateStoreError(`the state database ${path} has schema ${version}; this wimaxvm knows up to ${SCHEMA_VERSION} (a newer wimaxvm wrote it)`);
  }
  return new StateDatabase(db, stateDir);
}

function migrate(db: SqliteDatabase, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new StateStoreError(`the state database ${path} has schema ${version}; this wimaxvm knows up to ${SCHEMA_VERSION} (a newer wimaxvm wrote it)`);
  }
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    if (version < 1) db.exec(SCHEMA_V1);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * A connection to the state database. Statements are prepared once per connection. Writes of one
 * event-loop turn share one transaction (group-commit.ts). A writer whose database file was
 * removed under it (the state directory deleted while the controller runs) opens a fresh one at
 * its next group, and the `onRecreated` listeners fill it again.
 */
export class StateDatabase {
  readonly path: string;
  private statements = new Map<string, Database.Statement>();
  private readonly recreated: (() => void)[] = [];
  /** Set when a recreation could not be completed (another controller took the directory): no more writes. */
  private failure: Error | undefined;
  private readonly groups = new GroupCommit(this);

  constructor(private connection: SqliteDatabase, readonly stateDir: string) {
    this.path = stateDbPath(stateDir);
  }

  /** Runs `statements` in this turn's transaction; resolves after its commit and `onCommit`. See GroupCommit.write. */
  write(statements: () => void, onCommit: () => void): Promise<void> {
    return this.groups.write(statements, onCommit);
  }

  /** Runs `statements` now in this turn's transaction; `lost` hears if it fails to commit. See GroupCommit.join. */
  join(statements: () => void, lost: (err: unknown) => void): void {
    this.groups.join(statements, lost);
  }

  /** Commits this turn's transaction, then `statements` on their own. See GroupCommit.writeNow. */
  writeNow(statements: () => void): void {
    this.groups.writeNow(statements);
  }

  /** The last commit failed and none went through since. */
  get lastCommitFailed(): boolean {
    return this.groups.lastCommitFailed;
  }

  get db(): SqliteDatabase {
    return this.connection;
  }

  statement<P extends unknown[] | {} = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.connection.prepare(sql)));
    return statement as Database.Statement<P, R>;
  }

  getMeta(key: string): string | undefined {
    return this.statement<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.statement('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  onRecreated(listener: () => void): void {
    this.recreated.push(listener);
  }

  /**
   * Called before each group of writes: opens a fresh database if the file is gone (true when it did). Throws
   * if it cannot, and from then on if a listener failed (the directory is no longer ours).
   */
  recreateIfRemoved(): boolean {
    if (this.failure) throw this.failure;
    if (this.connection.readonly || existsSync(this.path)) return false;
    const fresh = openWritable(this.stateDir);
    this.connection.close();
    this.connection = fresh;
    this.statements = new Map();
    try {
      for (const listener of this.recreated) listener();
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      throw err;
    }
    return true;
  }

  /** Commits what is pending, then closes. */
  close(): void {
    if (!this.connection.open) return;
    this.groups.flush();
    this.connection.close();
  }
}
