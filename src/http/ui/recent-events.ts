// Recent events of a resource for the console's detail view. File mode reads them from the
// state database (as `describe` does); Kubernetes mode keeps the last few of each resource in
// memory as they are recorded (reading Events back from the API server would need another RBAC
// verb and a request per click).
import type { ResourceKey } from '../../api/meta.js';
import type { EventRecorder, EventType, RecordedEvent } from '../../ports/event-recorder.js';

export type EventHistory = (key: ResourceKey, limit: number) => RecordedEvent[];

/** Per resource. */
const KEPT_PER_RESOURCE = 20;
/** Resources remembered; the least recently recorded go first. */
const KEPT_RESOURCES = 20_000;

/** An EventRecorder that passes every event on and keeps the recent ones. */
export class RecentEvents implements EventRecorder {
  private readonly byKey = new Map<ResourceKey, RecordedEvent[]>();

  constructor(private readonly next: EventRecorder, private readonly now: () => Date = () => new Date()) {}

  record(key: ResourceKey, type: EventType, reason: string, message: string): void {
    this.next.record(key, type, reason, message);
    const at = this.now().toISOString();
    const list = this.byKey.get(key) ?? [];
    this.byKey.delete(key); // re-inserted last: the map's order is least recently recorded first
    const last = list[list.length - 1];
    if (last && last.type === type && last.reason === reason && last.message === message) {
      list[list.length - 1] = { ...last, count: last.count + 1, lastTimestamp: at };
    } else {
      list.push({ key, type, reason, message, count: 1, firstTimestamp: at, lastTimestamp: at });
      if (list.length > KEPT_PER_RESOURCE) list.shift();
    }
    this.byKey.set(key, list);
    if (this.byKey.size > KEPT_RESOURCES) this.byKey.delete(this.byKey.keys().next().value!);
  }

  /** Oldest first, as `describe` lists them. */
  readonly history: EventHistory = (key, limit) => (this.byKey.get(key) ?? []).slice(-limit);
}
