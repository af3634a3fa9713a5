// Turns successive counter samples of the switch into per-station and per-slice traffic: totals
// that only grow, and rates over the last interval. Pure apart from the state it keeps between
// samples; the clock is the sample's.
//
// A flow or meter counts from zero again when it is re-added (a station re-bound, new rates,
// ovs-vswitchd restarted). That is seen as counters going backwards or the flow's start moving
// later; the interval then counts what the new flow counted, never a negative difference.
// A flow's rate is its byte difference over the difference of its `duration` between the two
// dumps: that is ovs-vswitchd's own clock at the moment it read the counters, exact to the
// millisecond, where our clock around a process on a busy machine is off by tens of ms.
// Slices are the sum of their stations (the switch credits a packet to every rule it passed, so
// a slice's own flows count the same packets); their drops are their own meters'.
import type { Direction, FlowCounters, MeterCounters } from './ovs-stats.js';
import type { SliceTraffic, StationTraffic, TrafficCounters } from './traffic-feed.js';

/** A flow's start may move by this much between samples from rounding and process start-up alone. */
const RESTART_SLACK_MS = 1_000;

export interface Sample {
  atMs: number;
  flows: FlowCounters[];
  meters: Map<number, MeterCounters>;
}

/** Who a station and a slice are, from the declared resources; undefined: not reported. */
export interface Naming {
  station(mac: string): { namespace: string; name: string; vm?: string } | undefined;
  slice(vlan: number): { namespace: string; vm: string } | undefined;
}

export interface Accounted {
  stations: (StationTraffic & { mac: string })[];
  slices: SliceTraffic[];
}

/** One counter pair as last seen, and what it added up to. */
interface Track {
  packets: number;
  bytes: number;
  startMs: number;
  durationMs?: number;
  id?: number | undefined; // a meter's id: another id is another meter
}

interface Totals {
  packets: number;
  bytes: number;
}

/**
 * How much a counter pair grew since `prev` and over how long by the switch's clock (ms; absent
 * when unknown); all of `now` when it restarted or is new.
 */
export function growth(prev: Track | undefined, now: Track): Totals & { ms?: number } {
  const restarted = !prev || prev.id !== now.id || now.packets < prev.packets || now.bytes < prev.bytes
    || now.startMs > prev.startMs + RESTART_SLACK_MS;
  if (restarted) return { packets: now.packets, bytes: now.bytes };
  const ms = now.durationMs !== undefined && prev.durationMs !== undefined ? now.durationMs - prev.durationMs : 0;
  return { packets: now.packets - prev.packets, bytes: now.bytes - prev.bytes, ...(ms > 0 ? { ms } : {}) };
}

const zero = (): TrafficCounters => ({ uplinkBytes: 0, uplinkPackets: 0, downlinkBytes: 0, downlinkPackets: 0, uplinkBps: 0, downlinkBps: 0, droppedPackets: 0 });

export class TrafficAccountant {
  private lastAtMs: number | undefined;
  /** Raw counters by "mac/direction" (station flows) and "station|slice:key/direction" (meters). */
  private tracks = new Map<string, Track>();
  /** Totals that only grow, by station MAC and slice VLAN. */
  private stationTotals = new Map<string, TrafficCounters>();
  private sliceTotals = new Map<number, TrafficCounters>();

  /** Adds one sample; the first one gives totals (what the flows counted so far) and no rates. */
  step(sample: Sample, naming: Naming): Accounted {
    const seconds = this.lastAtMs === undefined ? 0 : Math.max(0.001, (sample.atMs - this.lastAtMs) / 1000);
    const first = this.lastAtMs === undefined;
    this.lastAtMs = sample.atMs;
    const tracks = new Map<string, Track>();
    const grow = (key: string, now: Track): Totals & { ms?: number } => {
      tracks.set(key, now);
      // A flow first seen after the first sample was added since: all it counted is new.
      return growth(this.tracks.get(key), now);
    };
    const stations = new Map<string, TrafficCounters>();
    const stationVlan = new Map<string, number>();
    const slices = new Map<number, TrafficCounters>();
    const sliceOf = (vlan: number): TrafficCounters => slices.get(vlan) ?? slices.set(vlan, this.carried(this.sliceTotals, vlan)).get(vlan)!;

    for (const f of sample.flows) {
      const startMs = sample.atMs - f.durationMs;
      const owner = 'mac' in f.owner ? `station:${f.owner.mac}` : `slice:${f.owner.vlan}`;
      const drops = f.meter === undefined ? undefined : sample.meters.get(f.meter);
      const counters = 'mac' in f.owner
        ? stations.get(f.owner.mac) ?? stations.set(f.owner.mac, this.carried(this.stationTotals, f.owner.mac)).get(f.owner.mac)!
        : sliceOf(f.owner.vlan);
      if (drops) {
        const d = grow(`${owner}/${f.direction}/meter`, { packets: drops.droppedPackets, bytes: drops.droppedBytes, startMs: sample.atMs - drops.durationMs, id: f.meter });
        counters.droppedPackets += d.packets;
      }
      if (!('mac' in f.owner)) continue; // a slice's traffic is its stations'
      if (f.vlan !== undefined) stationVlan.set(f.owner.mac, f.vlan);
      const g = grow(`${owner}/${f.direction}`, { packets: f.packets, bytes: f.bytes, startMs, durationMs: f.durationMs });
      // Restarted or new since the last sample: what it counted, over the time it has existed.
      const over = g.ms !== undefined ? g.ms / 1000 : Math.max(1, Math.min(f.durationMs / 1000, seconds));
      add(counters, f.direction, g, first ? 0 : over);
    }
    // A station's interval goes to its slice: the slice's totals grow with its stations' traffic.
    for (const [mac, s] of stations) {
      const vlan = stationVlan.get(mac);
      if (vlan === undefined) continue;
      const previous = this.stationTotals.get(mac);
      const slice = sliceOf(vlan);
      slice.uplinkBytes += s.uplinkBytes - (previous?.uplinkBytes ?? 0);
      slice.uplinkPackets += s.uplinkPackets - (previous?.uplinkPackets ?? 0);
      slice.downlinkBytes += s.downlinkBytes - (previous?.downlinkBytes ?? 0);
      slice.downlinkPackets += s.downlinkPackets - (previous?.downlinkPackets ?? 0);
      slice.uplinkBps += s.uplinkBps;
      slice.downlinkBps += s.downlinkBps;
    }
    // What is no longer on the switch is forgotten: its series go, and it starts from zero if it comes back.
    this.tracks = tracks;
    this.stationTotals = stations;
    this.sliceTotals = slices;

    const out: Accounted = { stations: [], slices: [] };
    for (const [mac, counters] of stations) {
      const who = naming.station(mac);
      if (!who) continue; // a station no client declares: its path is being removed
      const vlan = stationVlan.get(mac);
      out.stations.push({ mac, namespace: who.namespace, name: who.name, ...(who.vm ? { vm: who.vm } : {}), ...(vlan !== undefined ? { vlan } : {}), ...rounded(counters) });
    }
    for (const [vlan, counters] of slices) {
      const who = naming.slice(vlan);
      if (who) out.slices.push({ namespace: who.namespace, vm: who.vm, vlan, ...rounded(counters) });
    }
    return out;
  }

  /** A station's or slice's totals so far, with this interval's rates and nothing else yet. */
  private carried<K>(totals: Map<K, TrafficCounters>, key: K): TrafficCounters {
    const t = totals.get(key);
    return t ? { ...t, uplinkBps: 0, downlinkBps: 0 } : zero();
  }
}

function add(c: TrafficCounters, direction: Direction, g: Totals, seconds: number): void {
  const bps = seconds > 0 ? g.bytes / seconds : 0;
  if (direction === 'uplink') {
    c.uplinkBytes += g.bytes;
    c.uplinkPackets += g.packets;
    c.uplinkBps += bps;
  } else {
    c.downlinkBytes += g.bytes;
    c.downlinkPackets += g.packets;
    c.downlinkBps += bps;
  }
}

function rounded(c: TrafficCounters): TrafficCounters {
  return { ...c, uplinkBps: Math.round(c.uplinkBps), downlinkBps: Math.round(c.downlinkBps) };
}
