// File mode's events in the state database. Repeats of the same event for the same resource
// are folded into one row with a count, as the API server does; the table keeps the newest
// RETAINED rows. An event that cannot be written (disk full, read-only), or whose transaction
// fails to commit, is dropped: the failure is logged once, until a write goes through again.
// Events never fail a reconcile.
import { parseResourceKey, resourceKey, type ResourceKey } from '../../api/meta.js';
import { errorMessage, type Logger } from '../../core/logger.js';
import type { EventRecorder, EventType, RecordedEvent } from '../../ports/event-recorder.js';
import type { SqliteDatabase, StateDatabase } from './state-database.js';

/** Rows kept; older ones are pruned every so many inserts (a tenth of it, 500 at most). */
export const RETAINED_EVENTS = 20_000;
/** How many resources' last events are remembered for folding repeats. */
const REMEMBERED = 10_000;

interface Last {
  id: number | bigint;
  event: RecordedEvent;
}

export class SqliteEventLog implements EventRecorder {
  private readonly last = new Map<ResourceKey, Last>();
  private readonly pruneEvery: number;
  private inserts = 0;
  private failing = false;

  constructor(private readonly state: StateDatabase, private readonly logger: Logger, private readonly now: () => Date = () => new Date(), private readonly retained = RETAINED_EVENTS) {
    this.pruneEvery = Math.max(1, Math.min(500, Math.floor(retained / 10)));
  }

  record(key: ResourceKey, type: EventType, reason: string, message: string): void {
    const at = this.now().toISOString();
    const prev = this.last.get(key);
    try {
      let next!: Last;
      const write = () => {
        next = prev && prev.event.reason === reason && prev.event.message === message && prev.event.type === type
          ? this.repeat(prev, at)
          : this.append(key, { key, type, reason, message, count: 1, firstTimestamp: at, lastTimestamp: at });
      };
      // While writes fail, each event is a commit of its own, so the first that goes through
      // again is known here; otherwise it rides in this turn's transaction with the statuses.
      if (this.failing || this.state.lastCommitFailed) this.state.writeNow(write);
      else this.state.join(write, (err) => this.lost(err));
      this.last.delete(key); // re-inserted last: the map's order is least recently used first
      this.last.set(key, next);
      if (this.last.size > REMEMBERED) this.last.delete(this.last.keys().next().value!);
      if (this.failing) this.logger.info('recording events again', { path: this.state.path });
      this.failing = false;
    } catch (err) {
      this.warnOnce(err);
    }
  }

  /** The transaction these events rode in did not commit: they are dropped like a refused one. */
  private lost(err: unknown): void {
    // Row ids remembered for folding may be given to other events now.
    this.last.clear();
    this.warnOnce(err);
  }

  private warnOnce(err: unknown): void {
    if (!this.failing) this.logger.warn('cannot record events; dropping them until the state database takes writes again', { path: this.state.path, error: errorMessage(err) });
    this.failing = true;
  }

  private repeat(prev: Last, at: string): Last {
    const event = { ...prev.event, count: prev.event.count + 1, lastTimestamp: at };
    // Pruned meanwhile: the repeat starts a row of its own, with the count it has reached.
    if (this.state.statement('UPDATE events SET count = ?, last_timestamp = ? WHERE id = ?').run(event.count, at, prev.id).changes === 0) return this.append(prev.event.key, event);
    return { id: prev.id, event };
  }

  private append(key: ResourceKey, event: RecordedEvent): Last {
    const { kind, namespace, name } = parseResourceKey(key);
    const id = this.state.statement('INSERT INTO events (kind, namespace, name, type, reason, message, count, first_timestamp, last_timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(kind, namespace, name, event.type, event.reason, event.message, event.count, event.firstTimestamp, event.lastTimestamp).lastInsertRowid;
    if (++this.inserts % this.pruneEvery === 0) this.state.statement('DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?').run(this.retained);
    return { id, event };
  }
}

interface EventRow {
  kind: string;
  namespace: string;
  name: string;
  type: EventType;
  reason: string;
  message: string;
  count: number;
  first_timestamp: string;
  last_timestamp: string;
}

/** The recent events of one resource, repeats folded, oldest first (for `describe`). */
export function readEvents(db: SqliteDatabase, key: ResourceKey, limit = 20): RecordedEvent[] {
  const { kind, namespace, name } = parseResourceKey(key);
  const rows = db.prepare<[string, string, string, number], EventRow>(
    'SELECT * FROM events WHERE kind = ? AND namespace = ? AND name = ? ORDER BY id DESC LIMIT ?',
  ).all(kind, namespace, name, limit);
  return rows.reverse().map((r) => ({
    key: resourceKey(r.kind, r.namespace, r.name), type: r.type, reason: r.reason, message: r.message,
    count: r.count, firstTimestamp: r.first_timestamp, lastTimestamp: r.last_timestamp,
  }));
}
