// Problems only the user can fix (a foreign domain under the VM's name, a missing image, one
// station declared twice) are said once per change of cause: a warning in the log naming the
// resource, and a Warning event for `describe`. A retry of the same problem says nothing again.
import type { ResourceKey } from '../api/meta.js';
import type { Logger } from '../core/logger.js';
import type { EventRecorder } from '../ports/event-recorder.js';

export class ProblemReporter {
  /** The cause last reported per resource (reason and message). */
  private readonly reported = new Map<ResourceKey, string>();

  constructor(private readonly deps: { logger: Logger; events: EventRecorder }) {}

  report(key: ResourceKey, reason: string, message: string): void {
    const cause = `${reason}: ${message}`;
    if (this.reported.get(key) === cause) return;
    this.reported.set(key, cause);
    this.deps.logger.warn(`${key}: ${message}`, { key, reason });
    this.deps.events.record(key, 'Warning', reason, message);
  }

  /** The resource has no such problem now (or is gone): the next one is said again. */
  resolved(key: ResourceKey): void {
    this.reported.delete(key);
  }
}
