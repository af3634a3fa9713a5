// status.traffic of WimaxClients (the station) and VirtualMachines (its slice), kept cheap:
//
// - at most one round of writes per --traffic-status-interval (30 s by default), whatever the
//   sampling interval;
// - in a round, only resources whose traffic changed meaningfully: a rate moved by more than
//   10 % (and 1 kB/s) or started or stopped, drops rose, or traffic that still flows was last written 10 intervals ago.
//   An idle station or one at a steady rate costs nothing;
// - file mode writes a round as ONE SQLite transaction; Kubernetes mode sends one JSON patch of
//   /status/traffic per changed resource (never the rest of the status).
// The reconcilers do not own the field: they see statuses without it and keep the stored one
// when they write (keepTrafficStatus below), so a traffic change never makes them write.
import { resourceKey, type Resource, type ResourceKey } from '../api/meta.js';
import { VM_KIND } from '../api/virtual-machine.js';
import { CLIENT_KIND } from '../api/wimax-client.js';
import { errorMessage, type Logger } from '../core/logger.js';
import type { StatusStore } from '../ports/status-store.js';
import type { TrafficCounters, TrafficFeed, TrafficSnapshot } from './traffic-feed.js';

/** What status.traffic holds: the counters and when they were read. */
export interface TrafficStatus extends TrafficCounters {
  sampledAt: string;
}

/** Writes (traffic) or removes (undefined) status.traffic of many resources at once. */
export interface TrafficStatusWriter {
  write(updates: Map<ResourceKey, TrafficStatus | undefined>): Promise<void>;
}

const RATE_CHANGE = 0.1;
const RATE_FLOOR_BPS = 1_000;
const REFRESH_AFTER_INTERVALS = 10;

export function meaningfulChange(previous: TrafficStatus | undefined, next: TrafficStatus, intervalMs: number): boolean {
  if (!previous) return true;
  if (next.droppedPackets !== previous.droppedPackets) return true;
  for (const dir of ['uplinkBps', 'downlinkBps'] as const) {
    // Starting or stopping is news even below the floor: a stored residual rate would read as traffic.
    if ((next[dir] === 0) !== (previous[dir] === 0)) return true;
    const diff = Math.abs(next[dir] - previous[dir]);
    if (diff > RATE_FLOOR_BPS && diff > RATE_CHANGE * previous[dir]) return true;
  }
  const grew = next.uplinkBytes !== previous.uplinkBytes || next.downlinkBytes !== previous.downlinkBytes;
  return grew && Date.parse(next.sampledAt) - Date.parse(previous.sampledAt) >= REFRESH_AFTER_INTERVALS * intervalMs;
}

const trafficOf = (object: Resource<unknown, any> | undefined): TrafficStatus | undefined => object?.status?.traffic;

/** Picks, from a snapshot, the status.traffic writes worth making; undefined removes a stale one. */
export function trafficUpdates(snapshot: TrafficSnapshot, statuses: StatusStore, intervalMs: number): Map<ResourceKey, TrafficStatus | undefined> {
  const wanted = new Map<ResourceKey, TrafficStatus>();
  const counters = ({ uplinkBytes, uplinkPackets, downlinkBytes, downlinkPackets, uplinkBps, downlinkBps, droppedPackets }: TrafficCounters): TrafficStatus =>
    ({ uplinkBytes, uplinkPackets, downlinkBytes, downlinkPackets, uplinkBps, downlinkBps, droppedPackets, sampledAt: snapshot.at });
  for (const s of snapshot.stations) wanted.set(resourceKey(CLIENT_KIND, s.namespace, s.name), counters(s));
  for (const s of snapshot.slices) wanted.set(resourceKey(VM_KIND, s.namespace, s.vm), counters(s));
  const updates = new Map<ResourceKey, TrafficStatus | undefined>();
  for (const [key, traffic] of wanted) {
    const stored = statuses.get(key);
    if (stored?.status && meaningfulChange(trafficOf(stored), traffic, intervalMs)) updates.set(key, traffic);
  }
  // A station unbound or a slice without stations: its last figures would read as current.
  for (const kind of [CLIENT_KIND, VM_KIND]) {
    for (const object of statuses.list(kind)) {
      const key = resourceKey(kind, object.metadata.namespace, object.metadata.name);
      if (trafficOf(object) && !wanted.has(key)) updates.set(key, undefined);
    }
  }
  return updates;
}

export interface TrafficStatusPublisherOptions {
  feed: TrafficFeed;
  /** The mode's store, with status.traffic (not the reconcilers' view without it). */
  statuses: StatusStore;
  writer: TrafficStatusWriter;
  intervalMs: number;
  /** Only the acting replica writes (leader election). */
  mayWrite: () => boolean;
  logger: Logger;
  /** Resources written per round, for /metrics. */
  onWritten?: (count: number) => void;
}

/** Writes status.traffic from the feed at most once per interval. */
export class TrafficStatusPublisher {
  private lastRoundMs = -Infinity;
  private unsubscribe: (() => void) | undefined;
  private writing: Promise<void> | undefined;

  constructor(private readonly opts: TrafficStatusPublisherOptions) {}

  start(): void {
    this.unsubscribe ??= this.opts.feed.subscribe((s) => void this.offer(s));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.writing;
  }

  /** A snapshot from the feed: written if a round is due and none is in flight. */
  offer(snapshot: TrafficSnapshot): Promise<void> {
    const now = Date.parse(snapshot.at);
    if (this.writing || !this.opts.mayWrite() || now - this.lastRoundMs < this.opts.intervalMs) return this.writing ?? Promise.resolve();
    this.lastRoundMs = now;
    const updates = trafficUpdates(snapshot, this.opts.statuses, this.opts.intervalMs);
    if (updates.size === 0) return Promise.resolve();
    this.writing = this.opts.writer.write(updates)
      .then(() => this.opts.onWritten?.(updates.size))
      .catch((err: unknown) => this.opts.logger.warn('could not write status.traffic; trying again next interval', { resources: updates.size, error: errorMessage(err) }))
      .finally(() => (this.writing = undefined));
    return this.writing;
  }
}

/**
 * The status store as the reconcilers see it: without status.traffic, which they do not own;
 * their writes keep the stored traffic. So a status a reconcile computes equals the stored one
 * whatever the traffic, and a traffic write never makes a reconcile write again.
 */
export function keepTrafficStatus(inner: StatusStore): StatusStore {
  return {
    get(key) {
      const object = inner.get(key);
      if (!trafficOf(object)) return object;
      const { traffic: _traffic, ...status } = object!.status;
      return { ...object!, status };
    },
    list: (kind) => inner.list(kind),
    write(key, object) {
      const traffic = trafficOf(inner.get(key));
      const status = object.status as Record<string, unknown> | undefined;
      if (!traffic || !status || 'traffic' in status) return inner.write(key, object);
      return inner.write(key, { ...object, status: { ...status, traffic } });
    },
    remove: (key) => inner.remove(key),
  };
}
