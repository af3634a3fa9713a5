// File-mode events: appended as JSON lines to events.jsonl in the state directory. Repeats of
// the same event for the same resource are folded into one with a count, as the API server does.
import { createWriteStream, existsSync, readFileSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { ResourceKey } from '../api/meta.js';
import type { EventRecorder, EventType, RecordedEvent } from '../ports/event-recorder.js';

const ROTATE_BYTES = 16 * 1024 * 1024;
/** How many resources' last events are remembered for folding repeats. */
const REMEMBERED = 10_000;

export class FileEventLog implements EventRecorder {
  private stream: WriteStream | undefined;
  private bytes = 0;
  private readonly last = new Map<ResourceKey, RecordedEvent>();
  readonly path: string;

  constructor(stateDir: string, private readonly now: () => Date = () => new Date()) {
    this.path = join(stateDir, 'events.jsonl');
  }

  record(key: ResourceKey, type: EventType, reason: string, message: string): void {
    const at = this.now().toISOString();
    const prev = this.last.get(key);
    const event: RecordedEvent = prev && prev.reason === reason && prev.message === message && prev.type === type
      ? { ...prev, count: prev.count + 1, lastTimestamp: at }
      : { key, type, reason, message, count: 1, firstTimestamp: at, lastTimestamp: at };
    this.last.delete(key); // re-inserted last: the map's order is least recently used first
    this.last.set(key, event);
    if (this.last.size > REMEMBERED) this.last.delete(this.last.keys().next().value!);
    const line = JSON.stringify(event) + '\n';
    this.open().write(line);
    this.bytes += line.length;
    if (this.bytes > ROTATE_BYTES) this.rotate();
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (stream) await new Promise<void>((resolve) => stream.end(resolve));
  }

  private open(): WriteStream {
    if (!this.stream) {
      this.bytes = existsSync(this.path) ? statSync(this.path).size : 0;
      this.stream = createWriteStream(this.path, { flags: 'a' });
    }
    return this.stream;
  }

  private rotate(): void {
    this.stream?.end();
    this.stream = undefined;
    renameSync(this.path, `${this.path}.1`);
  }
}

/** The recent events of one resource, repeats folded, oldest first. */
export function readEvents(stateDir: string, key: ResourceKey, limit = 20): RecordedEvent[] {
  const byFirst = new Map<string, RecordedEvent>();
  for (const file of [join(stateDir, 'events.jsonl.1'), join(stateDir, 'events.jsonl')]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.includes(JSON.stringify(key))) continue;
      try {
        const event = JSON.parse(line) as RecordedEvent;
        if (event.key !== key) continue;
        byFirst.set(`${event.firstTimestamp}/${event.reason}/${event.message}`, event);
      } catch {
        /* a line cut by a crash */
      }
    }
  }
  return [...byFirst.values()].slice(-limit);
}
