// EventRecorder keeping every event in a list.
import type { ResourceKey } from '../../src/api/meta.js';
import type { EventRecorder, EventType } from '../../src/ports/event-recorder.js';

export interface FakeEvent {
  key: ResourceKey;
  type: EventType;
  reason: string;
  message: string;
}

export class FakeEventRecorder implements EventRecorder {
  readonly events: FakeEvent[] = [];

  record(key: ResourceKey, type: EventType, reason: string, message: string): void {
    this.events.push({ key, type, reason, message });
  }

  reasons(key?: ResourceKey): string[] {
    return this.events.filter((e) => key === undefined || e.key === key).map((e) => e.reason);
  }

  clear(): void {
    this.events.length = 0;
  }
}
