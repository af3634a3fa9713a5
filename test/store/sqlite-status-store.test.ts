// The StatusStore on a real SQLite file: what is written survives a reopen, reads come from
// memory, and a write SQLite refuses leaves memory as the database is (the retry writes again).
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStateDatabase, openStateDatabaseReadOnly, SCHEMA_VERSION, StateStoreError, type StateDatabase } from '../../src/adapters/store/state-database.js';
import { SqliteStatusStore } from '../../src/adapters/store/sqlite-status-store.js';
import type { Resource } from '../../src/api/meta.js';

const vm = (name: string, printableStatus: string, namespace = 'default'): Resource<unknown, any> => ({
  apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
  metadata: { name, namespace, uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { runStrategy: 'Always' }, status: { printableStatus, observedGeneration: 1 },
});

describe('SqliteStatusStore', () => {
  const opened: StateDatabase[] = [];
  const open = (dir: string): StateDatabase => {
    const state = openStateDatabase(dir);
    opened.push(state);
    return state;
  };
  afterEach(() => {
    for (const s of opened.splice(0)) if (s.db.open) s.close();
  });

  it('creates the database in WAL mode with the schema version', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'wimaxvm-db-')), 'state');
    const state = open(dir);
    expect(state.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(state.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  });

  it('refuses a database of a newer schema instead of misreading it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-db-'));
    open(dir).db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    opened.pop()!.close();
    expect(() => openStateDatabase(dir)).toThrow(/has schema 2; this wimaxvm knows up to 1/);
    expect(() => openStateDatabaseReadOnly(dir)).toThrow(StateStoreError);
  });

  it('reads no database where none was written', () => {
    expect(openStateDatabaseReadOnly(mkdtempSync(join(tmpdir(), 'wimaxvm-db-')))).toBeUndefined();
  });

  it('keeps what was written across a reopen, by kind; remove deletes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-db-'));
    const store = new SqliteStatusStore(open(dir));
    await store.write('VirtualMachine/default/a', vm('a', 'Running'));
    await store.write('VirtualMachine/lab/b', vm('b', 'Stopped', 'lab'));
    await store.write('WimaxClient/default/c', { ...vm('c', 'Bound'), kind: 'WimaxClient' });
    await store.remove('VirtualMachine/lab/b');
    opened.pop()!.close();

    const again = new SqliteStatusStore(open(dir));
    expect(again.get('VirtualMachine/default/a')?.status.printableStatus).toBe('Running');
    expect(again.get('VirtualMachine/lab/b')).toBeUndefined();
    expect(again.list('VirtualMachine').map((o) => o.metadata.name)).toEqual(['a']);
    expect(again.list('WimaxClient').map((o) => o.metadata.name)).toEqual(['c']);
  });

  it('stores a copy: changing the object afterwards changes nothing stored', async () => {
    const store = new SqliteStatusStore(open(mkdtempSync(join(tmpdir(), 'wimaxvm-db-'))));
    const object = vm('a', 'Running');
    await store.write('VirtualMachine/default/a', object);
    object.status.printableStatus = 'Mutated';
    expect(store.get('VirtualMachine/default/a')?.status.printableStatus).toBe('Running');
  });

  // Regression: the YAML store remembered the object before writing it, so after one failed
  // write the reconciler saw "unchanged" and never wrote that status again.
  it('a refused write throws an ordinary Error and leaves memory as the database is; the retry goes through', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-db-'));
    const state = open(dir);
    const store = new SqliteStatusStore(state);
    await store.write('VirtualMachine/default/a', vm('a', 'Running'));

    state.db.pragma('query_only = ON'); // SQLite itself refuses every write from here on
    const failed = store.write('VirtualMachine/default/a', vm('a', 'Stopped'));
    await expect(failed).rejects.toThrow(StateStoreError);
    await expect(failed).rejects.toThrow(/^cannot store the status of VirtualMachine\/default\/a in .*state\.db: /);
    expect(store.get('VirtualMachine/default/a')?.status.printableStatus).toBe('Running');
    await expect(store.write('VirtualMachine/default/new', vm('new', 'Starting'))).rejects.toThrow(StateStoreError);
    expect(store.get('VirtualMachine/default/new')).toBeUndefined();
    await expect(store.remove('VirtualMachine/default/a')).rejects.toThrow(StateStoreError);
    expect(store.get('VirtualMachine/default/a')).toBeDefined();

    state.db.pragma('query_only = OFF');
    await store.write('VirtualMachine/default/a', vm('a', 'Stopped'));
    opened.pop()!.close();
    expect(new SqliteStatusStore(open(dir)).get('VirtualMachine/default/a')?.status.printableStatus).toBe('Stopped');
    expect(readdirSync(dir).filter((f) => !/^state\.db(-wal|-shm)?$/.test(f))).toEqual([]);
  });
});
