// What the CLI reads from a controller's state database: one query per question, on a
// read-only connection (WAL lets it read while the controller writes).
import type { Resource, ResourceKey } from '../../api/meta.js';
import type { RecordedEvent } from '../../ports/event-recorder.js';
import { readEvents } from './sqlite-event-log.js';
import { openStateDatabaseReadOnly, type StateDatabase } from './state-database.js';

/** The meta key under which a controller records the directory it watches. */
export const DIRECTORY_META_KEY = 'directory';

export class StateReader {
  private constructor(private readonly state: StateDatabase) {}

  /** undefined when no controller has written to `stateDir` yet. */
  static open(stateDir: string): StateReader | undefined {
    const state = openStateDatabaseReadOnly(stateDir);
    // Pages read from the mapped file rather than copied in one read() each: a 10k-VM list costs
    // a third of the CPU. SQLite remaps when the controller grows the file.
    state?.db.pragma('mmap_size = 268435456');
    return state && new StateReader(state);
  }

  get path(): string {
    return this.state.path;
  }

  /** Stored objects of `kind`, in namespace and name order; one namespace or name when given. */
  objects<T extends Resource<unknown, unknown> = Resource<any, any>>(kind: string, namespace?: string, name?: string): T[] {
    const out: T[] = [];
    this.eachObject<T>(kind, namespace, name, (object) => void out.push(object));
    return out;
  }

  /**
   * The same objects one at a time, each parsed as its row is read: a long list is never held
   * whole unless `visit` keeps it. `visit` must not query this reader.
   */
  eachObject<T extends Resource<unknown, unknown> = Resource<any, any>>(kind: string, namespace: string | undefined, name: string | undefined, visit: (object: T) => void): void {
    const bodies = this.state.db.prepare<[{ kind: string; namespace: string | null; name: string | null }], string>(
      'SELECT body FROM objects WHERE kind = @kind AND (@namespace IS NULL OR namespace = @namespace) AND (@name IS NULL OR name = @name) ORDER BY namespace, name',
    ).pluck().iterate({ kind, namespace: namespace ?? null, name: name ?? null });
    for (const body of bodies) visit(JSON.parse(body) as T);
  }

  /** The names of the stored objects of `kind` (one namespace when given), in namespace and name order, without reading their bodies. */
  names(kind: string, namespace?: string): string[] {
    return this.state.db.prepare<[{ kind: string; namespace: string | null }], string>(
      'SELECT name FROM objects WHERE kind = @kind AND (@namespace IS NULL OR namespace = @namespace) ORDER BY namespace, name',
    ).pluck().all({ kind, namespace: namespace ?? null });
  }

  /** The namespaces that hold stored objects of any of `kinds`, sorted. */
  namespaces(kinds: string[]): string[] {
    return this.state.db.prepare<string[], string>(
      `SELECT DISTINCT namespace FROM objects WHERE kind IN (${kinds.map(() => '?').join(', ')}) ORDER BY namespace`,
    ).pluck().all(...kinds);
  }

  /** When the newest status was written (ms since the epoch), if any was. */
  newestWrite(): number | undefined {
    const row = this.state.db.prepare<[], { at: number | null }>('SELECT MAX(written_at) AS at FROM objects').get();
    return row?.at ?? undefined;
  }

  /** SQLite's data_version: it moves whenever another connection (the controller) commits. One cheap query. */
  changeCounter(): number {
    return this.state.db.pragma('data_version', { simple: true }) as number;
  }

  events(key: ResourceKey, limit?: number): RecordedEvent[] {
    return readEvents(this.state.db, key, limit);
  }

  /** The directory the controller that wrote this database watches. */
  watchedDirectory(): string | undefined {
    return this.state.getMeta(DIRECTORY_META_KEY);
  }

  close(): void {
    this.state.close();
  }
}
