// The state directory of wimaxvm before SQLite: a YAML file per resource
// (virtualmachines/<ns>/<name>.yaml, wimaxclients/...) and events.jsonl (+ .1 after rotation).
// Imported once, in one transaction, the first time a controller opens the database; the old
// files stay where they are.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseResourceKey, type Resource } from '../../api/meta.js';
import type { Logger } from '../../core/logger.js';
import type { RecordedEvent } from '../../ports/event-recorder.js';
import type { StateDatabase } from './state-database.js';

export const IMPORT_META_KEY = 'yaml-import';
const EVENT_FILES = ['events.jsonl.1', 'events.jsonl'];

export interface ImportResult {
  objects: number;
  events: number;
}

/** The kinds the old layout had a directory for ("virtualmachines" → VirtualMachine). */
function kindDirectories(stateDir: string, kinds: string[]): { kind: string; dir: string }[] {
  return kinds.map((kind) => ({ kind, dir: join(stateDir, kind.toLowerCase() + 's') })).filter(({ dir }) => existsSync(dir));
}

/** Imports the old layout if the state directory has one and it was not imported before. */
export function importYamlState(state: StateDatabase, kinds: string[], logger: Logger): ImportResult | undefined {
  if (state.getMeta(IMPORT_META_KEY) !== undefined) return undefined;
  const dirs = kindDirectories(state.stateDir, kinds);
  const eventFiles = EVENT_FILES.map((f) => join(state.stateDir, f)).filter((f) => existsSync(f));
  if (!dirs.length && !eventFiles.length) {
    state.setMeta(IMPORT_META_KEY, JSON.stringify({ at: new Date().toISOString(), found: false }));
    return undefined;
  }
  const objects = dirs.flatMap(({ kind, dir }) => readObjects(kind, dir));
  const events = readEventLines(eventFiles);
  const insertObject = state.db.prepare('INSERT OR IGNORE INTO objects (kind, namespace, name, body, written_at) VALUES (?, ?, ?, ?, ?)');
  const insertEvent = state.db.prepare('INSERT INTO events (kind, namespace, name, type, reason, message, count, first_timestamp, last_timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const result: ImportResult = { objects: objects.length, events: events.length };
  state.db.transaction(() => {
    for (const o of objects) insertObject.run(o.kind, o.namespace, o.name, JSON.stringify(o.object), o.writtenAt);
    for (const e of events) {
      const { kind, namespace, name } = parseResourceKey(e.key);
      insertEvent.run(kind, namespace, name, e.type, e.reason, e.message, e.count, e.firstTimestamp, e.lastTimestamp);
    }
    state.setMeta(IMPORT_META_KEY, JSON.stringify({ at: new Date().toISOString(), found: true, ...result }));
  }).immediate();
  logger.info(`imported the old YAML state directory (${result.objects} object(s), ${result.events} event(s)); its files are left in place`, { stateDir: state.stateDir });
  return result;
}

interface OldObject {
  kind: string;
  namespace: string;
  name: string;
  object: Resource<unknown, unknown>;
  writtenAt: number;
}

function readObjects(kind: string, dir: string): OldObject[] {
  const out: OldObject[] = [];
  for (const namespace of readdirSync(dir)) {
    if (!statSync(join(dir, namespace)).isDirectory()) continue;
    for (const file of readdirSync(join(dir, namespace))) {
      if (!file.endsWith('.yaml')) continue; // leftover *.tmp-* files of the old writer
      const path = join(dir, namespace, file);
      try {
        const object = parse(readFileSync(path, 'utf8')) as Resource<unknown, unknown> | null;
        if (!object?.metadata?.name) continue;
        out.push({ kind, namespace, name: object.metadata.name, object, writtenAt: Math.round(statSync(path).mtimeMs) });
      } catch {
        // A torn or hand-edited file: the first reconcile writes that status again.
      }
    }
  }
  return out;
}

/** Each event once (a folded repeat was appended again with its new count: the last line wins), oldest first. */
function readEventLines(files: string[]): RecordedEvent[] {
  const byFirst = new Map<string, RecordedEvent>();
  for (const line of files.flatMap((file) => readFileSync(file, 'utf8').split('\n'))) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as RecordedEvent;
      if (typeof e.key !== 'string' || typeof e.reason !== 'string') continue;
      parseResourceKey(e.key);
      const id = `${e.key}/${e.firstTimestamp}/${e.reason}/${e.message}`;
      byFirst.delete(id);
      byFirst.set(id, e);
    } catch {
      // A line cut by a crash.
    }
  }
  return [...byFirst.values()];
}
