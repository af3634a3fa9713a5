// `get -w`: after the list, one line per change, as `kubectl get -w` prints them: an object
// added or changed is printed as it is now, a deleted one as it was last seen (with
// --output-watch-events, an EVENT column says ADDED, MODIFIED or DELETED). The state database
// is not re-read on a timer: its change counter (one cheap query) is looked at, and the objects
// only when it moved. Ends, with exit 0, when `signal` aborts (Ctrl-C, SIGTERM).
import { resourceKey, type Resource } from '../api/meta.js';
import type { Listing } from './listing.js';

/** How often the change counter is looked at. */
export const WATCH_POLL_MS = 250;

export type WatchEvent = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Prints one object (a table row, a name, a document) for an event. */
export type PrintChange = (event: WatchEvent, object: Resource<any, any>) => void;

const keyOf = (o: Resource<unknown, unknown>) => resourceKey(o.kind, o.metadata.namespace, o.metadata.name);

/** The events that turn `before` into `after` (both keyed by resource key, bodies as JSON). */
export function changes(before: Map<string, string>, after: Resource<any, any>[]): { event: WatchEvent; object: Resource<any, any> }[] {
  const out: { event: WatchEvent; object: Resource<any, any> }[] = [];
  const seen = new Set<string>();
  for (const object of after) {
    const key = keyOf(object);
    seen.add(key);
    const was = before.get(key);
    if (was === undefined) out.push({ event: 'ADDED', object });
    else if (was !== JSON.stringify(object)) out.push({ event: 'MODIFIED', object });
  }
  for (const [key, body] of before) if (!seen.has(key)) out.push({ event: 'DELETED', object: JSON.parse(body) });
  return out;
}

function snapshot(objects: Resource<any, any>[]): Map<string, string> {
  return new Map(objects.map((o) => [keyOf(o), JSON.stringify(o)]));
}

/**
 * Watches `listing` from `initial` (what was printed already) until `signal` aborts. `token` is
 * the change token taken before `initial` was listed, so that no change falls in between.
 */
export async function watchChanges(listing: Listing, token: string, initial: Resource<any, any>[], print: PrintChange, signal: AbortSignal, pollMs = WATCH_POLL_MS): Promise<void> {
  let known = snapshot(initial);
  while (!signal.aborted) {
    await sleep(pollMs, signal);
    if (signal.aborted) break;
    const now = listing.changeToken();
    if (now === token) continue;
    token = now;
    const objects = listing.list();
    for (const { event, object } of changes(known, objects)) print(event, object);
    known = snapshot(objects);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
