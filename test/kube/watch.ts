// Watches: newline-delimited JSON events on a 200 response that stays open, fed from the
// store's change feed. A bounded history lets a watch resume from a resourceVersion; one older
// than the history gets what the watch cache sends: an ERROR event with a 410 Expired Status,
// then the end of the stream.
import type { ServerResponse } from 'node:http';
import type { KubeObject } from './resources.js';
import { expired } from './status.js';
import type { Change, ChangeType, Store } from './store.js';

export interface WatchRequest {
  storage: string;
  /** Namespace and selectors, on the stored form. */
  matches: (obj: KubeObject) => boolean;
  /** Stored form → what this API version serves. */
  view: (obj: KubeObject) => KubeObject;
  /** Unset or "0": start with an ADDED event for every object that exists now. */
  resourceVersion?: string;
  timeoutSeconds?: number;
}

interface OpenWatch { res: ServerResponse; request: WatchRequest }

type EventType = ChangeType | 'ERROR';

export class WatchHub {
  private history: Change[] = [];
  /** Events up to this revision are forgotten; a watch from before it is too old. */
  private forgottenThrough = 0;
  private readonly open = new Set<OpenWatch>();

  constructor(private readonly store: Store, private readonly historyLimit: number) {
    store.onChange((change) => this.record(change));
  }

  get count(): number {
    return this.open.size;
  }

  serve(res: ServerResponse, request: WatchRequest): void {
    // Headers go out at once: a client's watch() resolves only once they arrive.
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const rv = request.resourceVersion;
    if (!rv || rv === '0') {
      for (const obj of this.store.list(request.storage)) if (request.matches(obj)) send(res, 'ADDED', request.view(obj));
    } else {
      const from = Number(rv);
      if (from < this.forgottenThrough) {
        send(res, 'ERROR', expired(`too old resource version: ${from} (${this.forgottenThrough + 1})`).status);
        res.end();
        return;
      }
      for (const change of this.history) if (change.revision > from) deliver({ res, request }, change);
    }
    const watch = { res, request };
    this.open.add(watch);
    // The real server ends every watch after a while (--min-request-timeout); clients re-watch.
    const timer = request.timeoutSeconds ? setTimeout(() => res.end(), request.timeoutSeconds * 1000) : undefined;
    res.on('close', () => {
      clearTimeout(timer);
      this.open.delete(watch);
    });
  }

  /** Cuts every watch connection, as a network failure would. */
  drop(): void {
    for (const w of this.open) w.res.destroy();
    this.open.clear();
  }

  /** Ends every watch cleanly, as the server does when a watch's time is up. */
  close(): void {
    for (const w of this.open) w.res.end();
    this.open.clear();
  }

  /** Forgets all history, as an etcd compaction: resuming from any earlier revision gets 410. */
  compact(): void {
    this.history = [];
    this.forgottenThrough = this.store.resourceVersion;
  }

  private record(change: Change): void {
    this.history.push(change);
    while (this.history.length > this.historyLimit) this.forgottenThrough = this.history.shift()!.revision;
    for (const w of this.open) deliver(w, change);
  }
}

function send(res: ServerResponse, type: EventType, object: unknown): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}

/**
 * As the watch cache filters: an object that starts matching the selector is ADDED, one that
 * stops matching is DELETED (its previous state at the new revision).
 */
function deliver({ res, request }: OpenWatch, change: Change): void {
  if (change.storage !== request.storage) return;
  const now = request.matches(change.object);
  const before = change.type === 'MODIFIED' && change.previous !== undefined && request.matches(change.previous);
  if (change.type === 'MODIFIED' && !now && before) {
    const gone = structuredClone(change.previous!);
    gone.metadata.resourceVersion = change.object.metadata.resourceVersion;
    send(res, 'DELETED', request.view(gone));
  } else if (now) {
    send(res, change.type === 'MODIFIED' && !before ? 'ADDED' : change.type, request.view(change.object));
  }
}
