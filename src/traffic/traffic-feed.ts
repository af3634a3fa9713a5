// The traffic accounting as others read it (the web console, /metrics, status.traffic, the CLI):
// one snapshot per sampling interval, per station and per slice. The shape is a contract between
// areas (see the brief): change it only with the lead.
//
// uplink = station → network (towards the VM), downlink = network → station (from the VM).
// Bytes and packets are what the switch counted on the station's (slice's) flows, before meters;
// droppedPackets what its own meters dropped; Bps = bytes per second over the last interval.

export interface TrafficCounters {
  uplinkBytes: number;
  uplinkPackets: number;
  downlinkBytes: number;
  downlinkPackets: number;
  uplinkBps: number;
  downlinkBps: number;
  droppedPackets: number;
}

export interface StationTraffic extends TrafficCounters {
  namespace: string;
  name: string;
  vm?: string;
  vlan?: number;
}

export interface SliceTraffic extends TrafficCounters {
  namespace: string;
  vm: string;
  vlan: number;
}

export interface TrafficSnapshot {
  at: string; // ISO time
  intervalMs: number;
  stations: StationTraffic[];
  slices: SliceTraffic[];
}

export interface TrafficFeed {
  latest(): TrafficSnapshot | undefined;
  subscribe(listener: (s: TrafficSnapshot) => void): () => void;
}

/** A TrafficFeed that holds the latest snapshot and hands each new one to its listeners. */
export class TrafficBroadcast implements TrafficFeed {
  private last: TrafficSnapshot | undefined;
  private readonly listeners = new Set<(s: TrafficSnapshot) => void>();

  latest(): TrafficSnapshot | undefined {
    return this.last;
  }

  subscribe(listener: (s: TrafficSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** A listener that throws does not keep the others from the snapshot. */
  publish(snapshot: TrafficSnapshot): void {
    this.last = snapshot;
    for (const listener of [...this.listeners]) {
      try {
        listener(snapshot);
      } catch {
        /* a listener's own fault; the feed goes on */
      }
    }
  }
}
