// Events in a real SQLite file: repeats folded with a count, a bounded table, the reader
// `describe` uses, and a write SQLite refuses dropped with one warning.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStateDatabase, type StateDatabase } from '../../src/adapters/store/state-database.js';
import { readEvents, SqliteEventLog } from '../../src/adapters/store/sqlite-event-log.js';
import { createLogger } from '../../src/core/logger.js';

describe('SqliteEventLog', () => {
  let state: StateDatabase;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const logs: string[] = [];
  const logger = createLogger({ format: 'json', write: (l) => logs.push(l) });
  const now = () => new Date((clock += 1000));
  const fresh = (retained?: number) => {
    state = openStateDatabase(mkdtempSync(join(tmpdir(), 'wimaxvm-ev-')));
    return new SqliteEventLog(state, logger, now, retained);
  };
  afterEach(() => {
    state.close();
    logs.length = 0;
  });

  it('folds repeats of the same event into one row with a count and first/last time', () => {
    const log = fresh();
    log.record('VirtualMachine/default/a', 'Normal', 'Created', 'defined domain');
    log.record('VirtualMachine/default/a', 'Warning', 'StartFailed', 'no memory');
    log.record('VirtualMachine/default/a', 'Warning', 'StartFailed', 'no memory');
    log.record('VirtualMachine/default/a', 'Warning', 'StartFailed', 'no memory');
    log.record('VirtualMachine/default/b', 'Normal', 'Created', 'defined domain');
    log.record('VirtualMachine/default/a', 'Normal', 'Started', 'started');
    const events = readEvents(state.db, 'VirtualMachine/default/a');
    expect(events.map((e) => [e.reason, e.count])).toEqual([['Created', 1], ['StartFailed', 3], ['Started', 1]]);
    const failed = events[1]!;
    expect(Date.parse(failed.lastTimestamp) - Date.parse(failed.firstTimestamp)).toBe(2000);
    expect(readEvents(state.db, 'VirtualMachine/default/a', 2).map((e) => e.reason)).toEqual(['StartFailed', 'Started']);
  });

  it('keeps a bounded number of rows, the newest', () => {
    const log = fresh(100);
    for (let i = 0; i < 1000; i++) log.record(`VirtualMachine/default/vm${i % 7}`, 'Normal', 'Tick', `tick ${i}`);
    const rows = (state.db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    expect(rows).toBeGreaterThanOrEqual(100);
    expect(rows).toBeLessThanOrEqual(110);
    expect(readEvents(state.db, 'VirtualMachine/default/vm6', 1)[0]!.message).toBe('tick 993'); // the last i < 1000 with i % 7 === 6
  });

  it('a refused write is dropped without throwing, logged once, and recording resumes after', () => {
    const log = fresh();
    log.record('VirtualMachine/default/a', 'Normal', 'Created', 'defined domain');
    state.db.pragma('query_only = ON');
    for (let i = 0; i < 5; i++) expect(() => log.record('VirtualMachine/default/a', 'Normal', 'Tick', `tick ${i}`)).not.toThrow();
    expect(logs.filter((l) => l.includes('cannot record events'))).toHaveLength(1);
    state.db.pragma('query_only = OFF');
    log.record('VirtualMachine/default/a', 'Normal', 'Started', 'started');
    log.record('VirtualMachine/default/a', 'Normal', 'Started', 'started');
    expect(logs.filter((l) => l.includes('recording events again'))).toHaveLength(1);
    expect(readEvents(state.db, 'VirtualMachine/default/a').map((e) => [e.reason, e.count])).toEqual([['Created', 1], ['Started', 2]]);
  });
});
