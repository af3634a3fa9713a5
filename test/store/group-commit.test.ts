// Group commit on a real SQLite file: the writes of one event-loop turn are one transaction,
// counted in the WAL file itself (commit frames) and by the port's tally; a commit SQLite
// refuses fails every write of its group and leaves memory as the disk is; a removed file is
// recreated once per group; closing commits what is pending.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readEvents, SqliteEventLog } from '../../src/adapters/store/sqlite-event-log.js';
import { SqliteStatusStore } from '../../src/adapters/store/sqlite-status-store.js';
import { openStateDatabase, StateStoreError, type StateDatabase } from '../../src/adapters/store/state-database.js';
import { StateReader } from '../../src/adapters/store/state-reader.js';
import type { Resource } from '../../src/api/meta.js';
import { createLogger } from '../../src/core/logger.js';
import { callCounts, countsSince } from '../../src/observability/call-counters.js';

const vm = (name: string, printableStatus: string): Resource<unknown, any> => ({
  apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { runStrategy: 'Always' }, status: { printableStatus, observedGeneration: 1 },
});
const key = (name: string) => `VirtualMachine/default/${name}`;

/** Commit frames in the WAL file (a frame whose "database size after commit" field is set), up to the first stale frame. */
function walCommits(dbPath: string): number {
  const wal = readFileSync(`${dbPath}-wal`);
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  const [salt1, salt2] = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return commits;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('group commit of the state database', () => {
  const opened: StateDatabase[] = [];
  const logs: string[] = [];
  const logger = createLogger({ format: 'json', write: (l) => logs.push(l) });
  const open = (dir = mkdtempSync(join(tmpdir(), 'wimaxvm-group-'))): StateDatabase => {
    const state = openStateDatabase(dir);
    opened.push(state);
    return state;
  };
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
    logs.length = 0;
  });

  it('the status writes and events of one turn are one commit; the next turn is the next', async () => {
    const state = open();
    const store = new SqliteStatusStore(state);
    const events = new SqliteEventLog(state, logger);
    const walBefore = walCommits(state.path);
    const counted = callCounts();

    const writes: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      events.record(key(`vm-${i}`), 'Normal', 'Created', `domain vm-${i} defined`);
      writes.push(store.write(key(`vm-${i}`), vm(`vm-${i}`, 'Running')));
      events.record(key(`vm-${i}`), 'Normal', 'Started', `domain vm-${i} started`);
    }
    expect(store.get(key('vm-0'))).toBeUndefined(); // memory follows the commit, not the call
    const reader = StateReader.open(state.stateDir)!;
    expect(reader.objects('VirtualMachine', 'default')).toEqual([]); // nothing committed yet
    await Promise.all(writes);

    expect(walCommits(state.path) - walBefore).toBe(1);
    expect(Object.fromEntries(countsSince(counted).state)).toEqual({ commits: 1, writes: 150 });
    expect(reader.objects('VirtualMachine', 'default')).toHaveLength(50);
    expect(readEvents(state.db, key('vm-49')).map((e) => e.reason)).toEqual(['Created', 'Started']);
    expect(store.get(key('vm-49'))?.status.printableStatus).toBe('Running');
    reader.close();

    await store.write(key('vm-0'), vm('vm-0', 'Stopped'));
    await store.remove(key('vm-1'));
    expect(walCommits(state.path) - walBefore).toBe(3);
    expect(countsSince(counted).state.get('commits')).toBe(3);
  });

  it('a commit SQLite refuses fails every write of its group, leaves memory as the disk is, drops its events with one warning; the next turn goes through', async () => {
    const state = open();
    const store = new SqliteStatusStore(state);
    const events = new SqliteEventLog(state, logger);
    await store.write(key('a'), vm('a', 'Running'));
    // A foreign key checked only at COMMIT: a row that breaks it makes SQLite refuse the commit
    // of whatever transaction it is in, after every statement of it went through.
    state.db.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE poison (ref INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)');
    state.db.pragma('foreign_keys = ON');

    const a = store.write(key('a'), vm('a', 'Stopped'));
    const b = store.write(key('b'), vm('b', 'Starting'));
    const gone = store.remove(key('a'));
    events.record(key('a'), 'Normal', 'Stopped', 'domain a powered off');
    state.join(() => state.db.prepare('INSERT INTO poison VALUES (42)').run(), () => undefined);
    for (const write of [a, b, gone]) {
      await expect(write).rejects.toThrow(StateStoreError);
      await expect(write).rejects.toThrow(/FOREIGN KEY constraint failed/);
    }
    await expect(b).rejects.toThrow(/^cannot store the status of VirtualMachine\/default\/b in .*state\.db: /);
    expect(store.get(key('a'))?.status.printableStatus).toBe('Running');
    expect(store.get(key('b'))).toBeUndefined();
    expect(state.db.inTransaction).toBe(false);
    const reader = StateReader.open(state.stateDir)!;
    expect(reader.objects('VirtualMachine', 'default').map((o) => [o.metadata.name, o.status.printableStatus])).toEqual([['a', 'Running']]);
    reader.close();
    expect(readEvents(state.db, key('a'))).toEqual([]);
    expect(logs.filter((l) => l.includes('cannot record events'))).toHaveLength(1);

    await store.write(key('b'), vm('b', 'Starting'));
    events.record(key('a'), 'Normal', 'Stopped', 'domain a powered off');
    expect(logs.filter((l) => l.includes('recording events again'))).toHaveLength(1);
    expect(store.get(key('b'))?.status.printableStatus).toBe('Starting');
    expect(readEvents(state.db, key('a')).map((e) => [e.reason, e.count])).toEqual([['Stopped', 1]]);
  });

  it('a statement SQLite refuses fails only its own write; the others of the turn commit', async () => {
    const state = open();
    const store = new SqliteStatusStore(state);
    const ok = store.write(key('ok'), vm('ok', 'Running'));
    const cyclic: Record<string, unknown> = { ...vm('bad', 'Running') };
    cyclic.self = cyclic; // JSON cannot carry it: this write fails before SQLite sees it
    const bad = store.write(key('bad'), cyclic as unknown as Resource<unknown, any>);
    state.db.pragma('query_only = ON');
    const refused = store.write(key('refused'), vm('refused', 'Running'));
    state.db.pragma('query_only = OFF');
    const late = store.write(key('late'), vm('late', 'Running'));
    await expect(bad).rejects.toThrow(/^cannot store the status of VirtualMachine\/default\/bad in .*: Converting circular structure/);
    await expect(refused).rejects.toThrow(/^cannot store the status of VirtualMachine\/default\/refused in .*: attempt to write a readonly database/);
    await Promise.all([ok, late]);
    expect(store.list('VirtualMachine').map((o) => o.metadata.name).sort()).toEqual(['late', 'ok']);
  });

  it('a database removed under the writer is recreated once for a whole group, with what memory holds', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'wimaxvm-group-')), 'state');
    const state = open(dir);
    const store = new SqliteStatusStore(state);
    let recreations = 0;
    state.onRecreated(() => recreations++);
    await store.write(key('before'), vm('before', 'Running'));

    rmSync(dir, { recursive: true });
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.write(key(`after-${i}`), vm(`after-${i}`, 'Running'))));
    expect(recreations).toBe(1);
    await store.write(key('later'), vm('later', 'Running'));
    expect(recreations).toBe(1);
    const reader = StateReader.open(dir)!;
    expect(reader.objects('VirtualMachine', 'default')).toHaveLength(22);
    reader.close();
  });

  it('closing commits what is pending: the writes resolve and a reopen reads them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-group-'));
    const state = openStateDatabase(dir);
    const store = new SqliteStatusStore(state);
    const events = new SqliteEventLog(state, logger);
    const pending = store.write(key('last'), vm('last', 'Stopped'));
    events.record(key('last'), 'Normal', 'Stopped', 'domain last powered off');
    state.close(); // in the same turn: the group has not committed yet
    await pending;
    await nextTurn(); // the turn's own commit finds nothing left to do
    const again = open(dir);
    expect(new SqliteStatusStore(again).get(key('last'))?.status.printableStatus).toBe('Stopped');
    expect(readEvents(again.db, key('last')).map((e) => e.reason)).toEqual(['Stopped']);
  });
});
