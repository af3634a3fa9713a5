// What wimaxvm's OpenFlow state looks like as text: the checked inputs that go into ovs-ofctl
// arguments, the cookies that mark our flows (and whose they are), and the parsing of
// dump-flows and dump-meters back into stations and slices. Pure: no process is spawned here.
import type { ClientPath, SlicePath } from '../ports/datapath.js';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const PORT_NAME = /^[A-Za-z0-9_.-]{1,15}$/;
/** Names ovs-ofctl would read as a port number or a reserved port rather than a port's name. */
const RESERVED_PORT = /^(\d+|local|normal|flood|all|controller|in_port|any|none|table)$/i;
const MAX_KBPS = 100_000_000; // 100 Gbit/s: anything above is a typo, and overflows OVS fields
/** One full-size frame: a smaller bucket would drop every large frame however low the load. */
const MIN_BURST_KBIT = 12;

/** Meter ids of a path's two directions: towards the VM (up) and from it (down). */
export type Meters = { up?: number | undefined; down?: number | undefined };

/** A station's or a slice's flows as read back: meter ids rather than rates, which the meters hold. */
export interface Programmed extends Meters {
  vlan: number; // 0 when the flows are damaged (missing, edited by hand): then it equals no desired path
  vmPort: string; // '' when the flow naming it is missing
  stray: number[]; // meters in flows we do not recognise: freed when the station or slice is re-applied
}

/** A station's MAC: unicast, so that its cookie never looks like a slice's (first octet 0x01). */
export function checkMac(mac: string): string {
  if (typeof mac === 'string' && MAC.test(mac) && (parseInt(mac.slice(0, 2), 16) & 1) === 0) return mac;
  throw new Error(`invalid MAC ${JSON.stringify(mac)}: expected a lower-case unicast aa:bb:cc:dd:ee:ff`);
}

export function checkPortName(name: string, what = 'port'): string {
  if (typeof name === 'string' && PORT_NAME.test(name) && !RESERVED_PORT.test(name)) return name;
  throw new Error(`invalid ${what} name ${JSON.stringify(name)}: 1-15 of A-Z a-z 0-9 _ . -, not a number or reserved OpenFlow port`);
}

function checkInt<T extends number | undefined>(value: T, max: number, what: string): T {
  if (value === undefined || (Number.isSafeInteger(value) && value >= 1 && value <= max)) return value;
  throw new Error(`invalid ${what} ${value}: expected an integer in 1..${max}`);
}
export const checkVlan = (vlan: number): number => checkInt(vlan, 4094, 'VLAN');
const checkKbps = (kbps: number | undefined, what: string): number | undefined => checkInt(kbps, MAX_KBPS, `${what} (kbit/s)`);

/** Without its undefined keys, so that what we were given deep-equals what we read back. */
export function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function checkPath(p: ClientPath): ClientPath {
  return defined({ mac: checkMac(p.mac), vlan: checkVlan(p.vlan), vmPort: checkPortName(p.vmPort, 'vmPort'),
    uplinkKbps: checkKbps(p.uplinkKbps, 'uplinkKbps'), downlinkKbps: checkKbps(p.downlinkKbps, 'downlinkKbps') });
}

export function checkSlice(p: SlicePath): SlicePath {
  const s = defined({ vlan: checkVlan(p.vlan), vmPort: checkPortName(p.vmPort, 'vmPort'),
    uplinkKbps: checkKbps(p.uplinkKbps, 'uplinkKbps'), downlinkKbps: checkKbps(p.downlinkKbps, 'downlinkKbps') });
  if (s.uplinkKbps === undefined && s.downlinkKbps === undefined) throw new Error(`invalid slice path of VLAN ${s.vlan}: no rate (removeSlicePath removes its rates)`);
  return s;
}

export const stationCookie = (mac: string): string => `0x5758${mac.replace(/:/g, '')}`;
/** 0x5758 | 01 (a multicast first octet: no station's) | 000000 | the VLAN. */
export const sliceCookie = (vlan: number): string => `0x575801000000${vlan.toString(16).padStart(4, '0')}`;
/** 300 ms of traffic: TCP then stays within a few % of the rate (100 ms halves it). */
export const burstKbit = (kbps: number): number => Math.max(MIN_BURST_KBIT, Math.round(kbps * 0.3));

/** Whose a cookie is: a station's (by MAC), a slice's (by VLAN), or neither (others', our base flows, unknown). */
export function ownerOfCookie(cookie: string): { mac: string } | { vlan: number } | undefined {
  const hex = cookie.replace(/^0x/, '').padStart(16, '0');
  if (!hex.startsWith('5758') || /^0+$/.test(hex.slice(4))) return undefined;
  if ((parseInt(hex.slice(4, 6), 16) & 1) === 0) return { mac: hex.slice(4).match(/../g)!.join(':') };
  const vlan = /^5758010{6}([0-9a-f]{4})$/.exec(hex)?.[1];
  return vlan && Number.parseInt(vlan, 16) >= 1 && Number.parseInt(vlan, 16) <= 4094 ? { vlan: Number.parseInt(vlan, 16) } : undefined;
}

const FLOW = /^\s*cookie=(0x[0-9a-f]+),.*?\btable=(\d+),.*?\b(priority=\S*) actions=(\S*)$/;
const STATION_UP = /^(?:meter:(\d+),)?push_vlan:0x8100,set_field:(\d+)->vlan_vid,goto_table:1$/;
const STATION_DOWN = /^(?:meter:(\d+),)?goto_table:2$/;
const SLICE_UP = /^(?:meter:(\d+),)?NORMAL$/;
const SLICE_DOWN = /^(?:meter:(\d+),)?output:(\S+)$/;
const meterId = (ref: string | undefined): number | undefined => (ref === undefined ? undefined : Number(ref));

/**
 * Our station flows (by MAC) and slice flows (by VLAN) from `dump-flows --names`. A station needs
 * exactly its two table-0 flows; a slice its table-2 flow and at most one table-1 flow (none when
 * it has no uplink rate). Anything else under their cookie damages them (vlan 0).
 */
export function parseFlows(text: string, uplink: string): { stations: Map<string, Programmed & { mac: string }>; slices: Map<number, Programmed> } {
  type Seen = Programmed & { seen: { up: number; down: number; odd: number } };
  const stations = new Map<string, Seen & { mac: string }>();
  const slices = new Map<number, Seen & { key: number }>();
  for (const [, cookie, table, match, actions] of text.split('\n').map((l) => FLOW.exec(l) ?? [])) {
    const owner = cookie ? ownerOfCookie(cookie) : undefined;
    if (!owner) continue;
    const p: Seen = 'mac' in owner
      ? stations.get(owner.mac) ?? stations.set(owner.mac, { mac: owner.mac, vlan: 0, vmPort: '', stray: [], seen: { up: 0, down: 0, odd: 0 } }).get(owner.mac)!
      : slices.get(owner.vlan) ?? slices.set(owner.vlan, { key: owner.vlan, vlan: 0, vmPort: '', stray: [], seen: { up: 0, down: 0, odd: 0 } }).get(owner.vlan)!;
    // A second flow of a kind is odd: it damages the path, and its meters go to stray.
    if ('mac' in owner) {
      const up = STATION_UP.exec(actions!);
      const down = STATION_DOWN.exec(actions!);
      const downMatch = /^priority=100,in_port=([^,]+),dl_dst=(\S+)$/.exec(match!);
      if (table === '0' && up && match === `priority=100,in_port=${uplink},dl_src=${owner.mac}` && p.seen.up++ === 0) {
        [p.vlan, p.up] = [Number(up[2]) - 4096, meterId(up[1])];
      } else if (table === '0' && down && downMatch?.[2] === owner.mac && p.seen.down++ === 0) {
        // A port deleted and added again has a new ofport: the flow then shows the old number.
        [p.vmPort, p.down] = [downMatch[1]!, meterId(down[1])];
      } else {
        p.seen.odd++;
        for (const ref of actions!.matchAll(/meter:(\d+)/g)) p.stray.push(Number(ref[1]));
      }
    } else {
      const up = SLICE_UP.exec(actions!);
      const down = SLICE_DOWN.exec(actions!);
      const downMatch = /^priority=100,in_port=([^,]+)$/.exec(match!);
      if (table === '1' && up && match === `priority=100,dl_vlan=${owner.vlan}` && p.seen.up++ === 0) {
        p.up = meterId(up[1]);
      } else if (table === '2' && down?.[2] === uplink && downMatch && p.seen.down++ === 0) {
        [p.vmPort, p.down] = [downMatch[1]!, meterId(down[1])];
      } else {
        p.seen.odd++;
        for (const ref of actions!.matchAll(/meter:(\d+)/g)) p.stray.push(Number(ref[1]));
      }
    }
  }
  return {
    stations: new Map([...stations].map(([mac, { seen, ...p }]) => [mac, { ...p, vlan: seen.up === 1 && seen.down === 1 && !seen.odd ? p.vlan : 0 }])),
    slices: new Map([...slices].map(([vlan, { seen, key, ...p }]) => [vlan, { ...p, vlan: seen.up <= 1 && seen.down === 1 && !seen.odd ? key : 0 }])),
  };
}

/** Meter id → rate of its first band, from `dump-meters`. */
export function parseMeters(text: string): Map<number, number> {
  return new Map([...text.matchAll(/meter=(\d+)[^\n]*\n\s*type=\S+ rate=(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]));
}
