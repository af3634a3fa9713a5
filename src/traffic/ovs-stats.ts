// The counters of wimaxvm's flows and meters, from one `ovs-ofctl -O OpenFlow13 dump-flows` and
// one `meter-stats` of the whole bridge. Pure: the text in, counters per station and slice out.
//
// Which flow is whose comes from its cookie (ovs-flows.ts): a station's two table-0 flows carry
// its MAC (dl_src: what it sends, uplink; dl_dst: what is sent to it, downlink); a slice's
// table-1 flow meters its uplink and its table-2 flow its downlink. The userspace datapath
// credits a packet to every rule it passed, before any meter drops it, so a slice's flows count
// what its stations' flows count: slices are summed from stations (accounting.ts), and only
// their meters are read here.
import { ownerOfCookie } from '../adapters/ovs-flows.js';

export type Direction = 'uplink' | 'downlink';

/** One of our flows with its counters. */
export interface FlowCounters {
  owner: { mac: string } | { vlan: number };
  direction: Direction;
  packets: number;
  bytes: number;
  /** How long the flow has existed: a re-added flow counts from zero again. */
  durationMs: number;
  meter?: number;
  /** A station's uplink flow: the slice VLAN it pushes. */
  vlan?: number;
}

/** What a meter dropped (its bands together) and how long it has existed. */
export interface MeterCounters {
  droppedPackets: number;
  droppedBytes: number;
  durationMs: number;
}

const FIELD = /(?:^|[\s,])(cookie|duration|table|n_packets|n_bytes)=([^,\s]+)/g;

/** Our station and slice flows with their counters; others' flows and our base flows are left out. */
export function parseFlowCounters(text: string): FlowCounters[] {
  const out: FlowCounters[] = [];
  for (const line of text.split('\n')) {
    const cut = line.indexOf(' actions=');
    if (cut < 0) continue;
    const head = line.slice(0, cut);
    const fields = new Map([...head.matchAll(FIELD)].map((m) => [m[1]!, m[2]!]));
    const owner = fields.has('cookie') ? ownerOfCookie(fields.get('cookie')!) : undefined;
    if (!owner) continue;
    const direction = directionOf(owner, fields.get('table') ?? '0', head);
    if (!direction) continue; // a flow of ours this version does not program: not counted
    const actions = line.slice(cut + ' actions='.length);
    const meter = /(?:^|,)meter:(\d+)/.exec(actions)?.[1];
    const vid = /set_field:(\d+)->vlan_vid/.exec(actions)?.[1];
    out.push({
      owner, direction,
      packets: Number(fields.get('n_packets') ?? 0),
      bytes: Number(fields.get('n_bytes') ?? 0),
      durationMs: Math.round(Number.parseFloat(fields.get('duration') ?? '0') * 1000),
      ...(meter !== undefined ? { meter: Number(meter) } : {}),
      ...(vid !== undefined ? { vlan: Number(vid) - 4096 } : {}),
    });
  }
  return out;
}

function directionOf(owner: FlowCounters['owner'], table: string, head: string): Direction | undefined {
  if ('mac' in owner) {
    if (table !== '0') return undefined;
    if (/[\s,]dl_src=/.test(head)) return 'uplink';
    if (/[\s,]dl_dst=/.test(head)) return 'downlink';
    return undefined;
  }
  return table === '1' ? 'uplink' : table === '2' ? 'downlink' : undefined;
}

/** Meter id → its counters, from `meter-stats` (OpenFlow 1.3). */
export function parseMeterCounters(text: string): Map<number, MeterCounters> {
  const out = new Map<number, MeterCounters>();
  // Each meter: a header line, then one line per band ("0: packet_count:N byte_count:N").
  for (const block of text.split(/\n(?=meter:)/)) {
    const head = /^meter:(\d+) .*?\bduration:([\d.]+)s/m.exec(block);
    if (!head) continue;
    let droppedPackets = 0;
    let droppedBytes = 0;
    for (const band of block.matchAll(/^\s*\d+: packet_count:(\d+) byte_count:(\d+)/gm)) {
      droppedPackets += Number(band[1]);
      droppedBytes += Number(band[2]);
    }
    out.set(Number(head[1]), { droppedPackets, droppedBytes, durationMs: Math.round(Number(head[2]) * 1000) });
  }
  return out;
}
