// Kubernetes-style events: what the controller did to a resource, for `describe`.
import type { ResourceKey } from '../api/meta.js';

export type EventType = 'Normal' | 'Warning';

export interface RecordedEvent {
  key: ResourceKey;
  type: EventType;
  reason: string;
  message: string;
  /** How many times in a row the same event happened (aggregation, as the API server does). */
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
}

export interface EventRecorder {
  record(key: ResourceKey, type: EventType, reason: string, message: string): void;
}
