// Where a round of status.traffic goes in file mode: the state database, in one transaction.
// (Kubernetes mode's writer is kube-traffic-status-writer.ts: a file-mode controller never loads
// the Kubernetes client.)
import type { Resource, ResourceKey } from '../api/meta.js';
import type { SqliteStatusStore } from '../adapters/store/sqlite-status-store.js';
import type { TrafficStatus, TrafficStatusWriter } from './traffic-status.js';

/** The whole round as one SQLite transaction; each object is the stored one with its new traffic. */
export class FileTrafficStatusWriter implements TrafficStatusWriter {
  constructor(private readonly statuses: SqliteStatusStore) {}

  async write(updates: Map<ResourceKey, TrafficStatus | undefined>): Promise<void> {
    const objects: [ResourceKey, Resource<unknown, unknown>][] = [];
    for (const [key, traffic] of updates) {
      const stored = this.statuses.get(key);
      if (!stored?.status) continue; // removed meanwhile
      const { traffic: _old, ...status } = stored.status as { traffic?: unknown };
      objects.push([key, { ...stored, status: traffic ? { ...status, traffic } : status }]);
    }
    if (objects.length) await this.statuses.writeMany(objects);
  }
}
