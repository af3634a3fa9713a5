// The traffic accounting's rates as the console sends them: per station and per slice, only
// what changed since the last message (an idle testbed sends almost nothing).
import type { TrafficFeed, TrafficSnapshot } from '../../traffic/traffic-feed.js';

export type { TrafficFeed, TrafficSnapshot };

/** [id, uplink B/s, downlink B/s, dropped packets] */
export type RateEntry = [string, number, number, number];

export interface RatesMessage {
  at: string;
  intervalMs: number;
  /** Stations by "namespace/name". */
  stations: RateEntry[];
  /** Slices by "namespace/vm". */
  slices: RateEntry[];
}

function entries(items: { namespace: string; uplinkBps: number; downlinkBps: number; droppedPackets: number }[], nameOf: (i: any) => string): RateEntry[] {
  return items.map((i) => [`${i.namespace}/${nameOf(i)}`, Math.round(i.uplinkBps), Math.round(i.downlinkBps), i.droppedPackets]);
}

export function ratesOf(snapshot: TrafficSnapshot): RatesMessage {
  return {
    at: snapshot.at,
    intervalMs: snapshot.intervalMs,
    stations: entries(snapshot.stations, (s) => s.name),
    slices: entries(snapshot.slices, (s) => s.vm),
  };
}

/** Remembers what was sent, so that the next message carries only what changed. */
export class RateDiffer {
  private readonly last = new Map<string, string>();

  /** The full rates (for a new page) and remembers them as sent. */
  full(snapshot: TrafficSnapshot): RatesMessage {
    const message = ratesOf(snapshot);
    this.last.clear();
    for (const [kind, list] of [['st', message.stations], ['sl', message.slices]] as const) {
      for (const e of list) this.last.set(`${kind}:${e[0]}`, `${e[1]},${e[2]},${e[3]}`);
    }
    return message;
  }

  /** What changed since the last call (an entry that vanished is sent as zero rates). */
  next(snapshot: TrafficSnapshot): RatesMessage {
    const message = ratesOf(snapshot);
    const now = new Map<string, string>();
    const pick = (kind: string, list: RateEntry[]): RateEntry[] => list.filter((e) => {
      const key = `${kind}:${e[0]}`;
      const value = `${e[1]},${e[2]},${e[3]}`;
      now.set(key, value);
      return this.last.get(key) !== value;
    });
    const out: RatesMessage = { ...message, stations: pick('st', message.stations), slices: pick('sl', message.slices) };
    for (const [key, value] of this.last) {
      if (now.has(key) || value === '0,0,0') continue;
      const id = key.slice(3);
      (key.startsWith('st:') ? out.stations : out.slices).push([id, 0, 0, 0]);
      now.set(key, '0,0,0');
    }
    this.last.clear();
    for (const [k, v] of now) this.last.set(k, v);
    return out;
  }
}
