// The Datapath port on Open vSwitch: ovs-ofctl (OpenFlow 1.3) for station paths, slice rates
// and their meters, ovs-vsctl for a VM port's VLAN tag. Every flow we program carries a cookie
// whose top 16 bits are 0x5758 ("WX"); flows with other cookies and meters our flows do not use
// are never touched. Processes are spawned with execFile and validated arguments only.
//
// The pipeline (OpenFlow 1.3 allows one meter per flow, so a station's and its slice's meters
// are in different tables):
//   table 0  stations: uplink  dl_src=MAC → [meter,] push the slice's VLAN, goto 1
//                      VM port dl_dst=MAC → [meter,] goto 2
//            base: frames from unknown stations on the uplink are dropped; the rest is the
//            bridge's own NORMAL flow (not ours)
//   table 1  slice uplink:   dl_vlan=VLAN → meter, NORMAL      base: NORMAL
//   table 2  slice downlink: in_port=VM port → [meter,] output to the uplink   base: the same, unmetered
// A slice's table-2 flow is there even without a downlink rate: it records the slice's VM port.
import { execFile } from '../observability/counted-child-process.js';
import { basename } from 'node:path';
import { errorMessage, type Logger } from '../core/logger.js';
import {
  burstKbit, checkMac, checkPath, checkPortName, checkSlice, checkVlan, defined, parseFlows, parseMeters, sliceCookie, stationCookie,
  type Meters, type Programmed,
} from './ovs-flows.js';
import { MeterLedger } from './ovs-meter-ledger.js';
import { explainUnknownPort } from './ovs-port-diagnosis.js';
import { DatapathUnavailableError, type ClientPath, type Datapath, type PortSettings, type SlicePath } from '../ports/datapath.js';

const BASE_COOKIE = '0x5758000000000000';
/** What ovs-vsctl/ovs-ofctl say when the daemons or the bridge are not there. */
const UNAVAILABLE = /database connection failed|failed to connect to socket|is not a bridge or a socket|timeout expired|Connection refused|version negotiation failed|ENOENT/i;
const VSCTL_TIMEOUT_S = 20; // ovs-vsctl waits for ovs-vswitchd to apply a change, by default for ever

export interface OvsDatapathOptions {
  bridge: string;
  /** The port towards the base station: untagged, station frames arrive here. */
  uplink: string;
  logger: Logger;
  ofctl?: string;
  vsctl?: string;
  /** How long station and slice changes wait to be flushed together; default 2 ms. */
  batchWindowMs?: number;
}

/** What a change is about (undefined path: remove). Stations and slices are told apart by their cookie. */
type Target =
  | { kind: 'station'; mac: string; path: ClientPath | undefined }
  | { kind: 'slice'; vlan: number; path: SlicePath | undefined };

/** A station's or a slice's pending change and the callers waiting for it; keyed by its cookie. */
interface Change {
  cookie: string;
  target: Target;
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
  meters?: Meters & { added: number[]; freed: number[] };
}

/** What an older wimaxvm set on a port (egress-policer QoS rows, ingress policing): setPort clears it. */
interface Legacy {
  qos: string[];
  policing: boolean;
}

/**
 * Processes per operation: a batch of station and slice changes is one ovs-ofctl bundle, plus
 * one process per meter added, changed or deleted (paths with rates only); refresh is two dumps;
 * getPort and setPort one ovs-vsctl each.
 */
export class OvsDatapath implements Datapath {
  spawns = 0; // every process spawned so far, for benchmarks
  private readonly bridge: string;
  private readonly uplink: string;
  private stations = new Map<string, Programmed & { mac: string }>();
  private slices = new Map<number, Programmed>();
  /** Rates of every meter on the bridge (ours and others'), as of the last dump and our changes. */
  private meterRates = new Map<number, number>();
  /** Meter ids not to allocate: every meter on the bridge, and those being added. */
  private usedMeters = new Set<number>();
  private loaded = false;
  private pending = new Map<string, Change>();
  private scheduled = false;
  /** Flushes and refreshes run one at a time, so that a dump never sees half a flush. */
  private lock: Promise<void> = Promise.resolve();
  /** By port, from getPort: what an older wimaxvm left there, for setPort to clear. */
  private readonly legacy = new Map<string, Legacy>();
  /** Meters recorded as ours in OVSDB before they are added, so that none is left behind unowned. */
  private readonly ledger: MeterLedger;
  /** Ids recorded for the batch being flushed, taken by its add-meters in turn. */
  private reserved: number[] = [];

  constructor(private readonly opts: OvsDatapathOptions) {
    this.bridge = checkPortName(opts.bridge, 'bridge');
    this.uplink = checkPortName(opts.uplink, 'uplink port');
    this.ledger = new MeterLedger((args) => this.vsctl(args), this.bridge);
  }

  async ensureBase(): Promise<void> {
    const ports = await this.vsctl(['list-ports', this.bridge]).catch(async (err: unknown) => {
      if (!/no bridge named/.test(errorMessage(err))) throw err;
      // A fresh host: the bridge is ours to create (userspace OVS needs the netdev datapath).
      await this.vsctl(['--may-exist', 'add-br', this.bridge, '--', 'set', 'Bridge', this.bridge, 'datapath_type=netdev']);
      this.opts.logger.info('created the OVS bridge', { bridge: this.bridge });
      return '';
    });
    if (!ports.split('\n').includes(this.uplink)) throw new DatapathUnavailableError(`uplink port ${this.uplink} is not on OVS bridge ${this.bridge}`);
    // Replaced rather than added, in case the uplink changed: frames of unknown stations are
    // dropped; station frames leave the slice tables unmetered unless a slice flow meters them.
    await this.addFlows([`delete cookie=${BASE_COOKIE}/-1`,
      `add cookie=${BASE_COOKIE},table=0,priority=10,in_port=${this.uplink},actions=drop`,
      `add cookie=${BASE_COOKIE},table=1,priority=0,actions=NORMAL`,
      `add cookie=${BASE_COOKIE},table=2,priority=0,actions=output:${this.uplink}`]);
  }

  refresh(): Promise<void> {
    return this.serial(() => this.load());
  }

  clientPath(mac: string): ClientPath | undefined {
    const p = this.stations.get(mac);
    return p && defined({ mac: p.mac, vlan: p.vlan, vmPort: p.vmPort, uplinkKbps: this.rate(p.up), downlinkKbps: this.rate(p.down) });
  }

  clientMacs(): string[] {
    return [...this.stations.keys()];
  }

  async applyClientPath(path: ClientPath): Promise<void> {
    const p = checkPath(path); // bad input fails here, before anything is spawned
    return this.enqueue({ kind: 'station', mac: p.mac, path: p });
  }

  async removeClientPath(mac: string): Promise<void> {
    return this.enqueue({ kind: 'station', mac: checkMac(mac), path: undefined });
  }

  slicePath(vlan: number): SlicePath | undefined {
    const p = this.slices.get(vlan);
    return p && defined({ vlan: p.vlan, vmPort: p.vmPort, uplinkKbps: this.rate(p.up), downlinkKbps: this.rate(p.down) });
  }

  sliceVlans(): number[] {
    return [...this.slices.keys()];
  }

  async applySlicePath(path: SlicePath): Promise<void> {
    const p = checkSlice(path);
    return this.enqueue({ kind: 'slice', vlan: p.vlan, path: p });
  }

  async removeSlicePath(vlan: number): Promise<void> {
    return this.enqueue({ kind: 'slice', vlan: checkVlan(vlan), path: undefined });
  }

  /** A meter's rate; 0 for one gone since the last dump, which equals no desired rate. */
  private rate(id: number | undefined): number | undefined {
    return id === undefined ? undefined : this.meterRates.get(id) ?? 0;
  }

  /** One ovs-vsctl call: whether the port is on our bridge, its tag, and what an older wimaxvm left on it. */
  async getPort(name: string): Promise<PortSettings | undefined> {
    const q = `"${checkPortName(name)}"`; // validated: no quotes or backslashes inside
    const out = await this.vsctl(['--format=json', '--data=json', '--', '--id=@p', 'get', 'Port', name,
      '--', '--columns=name', 'find', 'Bridge', `name="${this.bridge}"`, 'ports{>=}@p',
      '--', '--columns=tag', 'find', 'Port', `name=${q}`,
      '--', '--columns=ingress_policing_rate,ingress_policing_burst', 'find', 'Interface', `name=${q}`,
      '--', '--columns=_uuid', 'find', 'QoS', `external_ids:wimaxvm-port=${q}`,
    ]).catch((err: unknown) => {
      if (/no row .* in table Port/.test(errorMessage(err))) return undefined; // no such port at all
      throw err;
    });
    const [bridge, port, iface, qos] = (out ?? '').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { data: unknown[][] }).data);
    if (!bridge?.length || !port?.[0]) return undefined; // no such port, or on another bridge
    // Ingress policing is an older wimaxvm's when its burst is the one it set (300 ms of the rate).
    const [rate, burst] = (iface?.[0] ?? [0, 0]) as [number, number];
    this.legacy.set(name, { qos: ((qos ?? []) as [[string, string]][]).map(([[, uuid]]) => uuid), policing: rate > 0 && burst === burstKbit(rate) });
    const [tag] = port[0] as [unknown];
    return defined({ tag: typeof tag === 'number' ? tag : undefined });
  }

  /**
   * One ovs-vsctl transaction (after a getPort when the port was not read before). It also
   * clears what an older wimaxvm set on the port (policing does not act on the userspace
   * datapath); a QoS or policing of others is left alone.
   */
  async setPort(name: string, s: PortSettings): Promise<void> {
    checkPortName(name);
    if (s.tag !== undefined) checkVlan(s.tag);
    if (!this.legacy.has(name) && !(await this.getPort(name))) throw new Error(`port ${name} is not on OVS bridge ${this.bridge}`);
    const legacy = this.legacy.get(name)!;
    await this.vsctl([
      '--', ...(s.tag !== undefined ? ['set', 'Port', name, `tag=${s.tag}`] : ['clear', 'Port', name, 'tag']),
      // `remove` unsets the port's QoS only if it is that row; QoS rows are root rows, destroyed explicitly.
      ...legacy.qos.flatMap((uuid) => ['--', 'remove', 'Port', name, 'qos', uuid, '--', '--if-exists', 'destroy', 'QoS', uuid]),
      ...(legacy.policing ? ['--', 'set', 'Interface', name, 'ingress_policing_rate=0', 'ingress_policing_burst=0'] : []),
    ]).catch((err: unknown) => {
      this.legacy.delete(name); // perhaps stale: looked up again next time
      throw /no row .* in table (Port|Interface)/.test(errorMessage(err)) ? new Error(`port ${name} is not on OVS bridge ${this.bridge}`) : err;
    });
    this.legacy.set(name, { qos: [], policing: false });
  }

  private enqueue(target: Target): Promise<void> {
    const cookie = target.kind === 'station' ? stationCookie(target.mac) : sliceCookie(target.vlan);
    return new Promise((resolve, reject) => {
      const change = this.pending.get(cookie) ?? { cookie, target, waiters: [] };
      change.target = target; // the last call for a station or slice wins
      change.waiters.push({ resolve, reject });
      this.pending.set(cookie, change);
      if (this.scheduled) return;
      this.scheduled = true;
      // Calls made while the timer runs or a flush is in flight wait for the next flush together.
      setTimeout(() => void this.serial(async () => {
        this.scheduled = false;
        const batch = [...this.pending.values()];
        this.pending = new Map();
        // flush settles every waiter itself; this only guards against a bug leaving them hanging.
        await this.flush(batch).catch((err: unknown) => batch.forEach((c) => c.waiters.forEach((w) => w.reject(err))));
      }), this.opts.batchWindowMs ?? 2);
    });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.lock.then(fn);
    this.lock = run.catch(() => {});
    return run;
  }

  /** What the switch has for a change's station or slice. */
  private programmedOf(t: Target): Programmed | undefined {
    return t.kind === 'station' ? this.stations.get(t.mac) : this.slices.get(t.vlan);
  }

  /**
   * Meters first (one process per added or changed meter: ovs-ofctl has no batch meter command),
   * then one bundle with every station's and slice's flows, then the meters no longer used are deleted.
   */
  private async flush(batch: Change[]): Promise<void> {
    const failed = new Map<Change, unknown>();
    const loading = this.loaded ? undefined : await this.load().then(() => undefined, (err: unknown) => err ?? 'load failed');
    if (loading !== undefined) batch.forEach((c) => failed.set(c, loading));
    const ready: Change[] = [];
    if (loading === undefined) {
      await this.reserveMeters(batch.reduce((n, c) => n + this.newMetersOf(c), 0)).then(
        () => mapLimit(batch, 4, (c) => this.prepareMeters(c).then(() => void ready.push(c), (err: unknown) => void failed.set(c, err))),
        (err: unknown) => batch.forEach((c) => failed.set(c, err)));
      await this.releaseReserved();
    }
    for (const [c, err] of await this.commitFlows(ready)) failed.set(c, err);
    const done = ready.filter((c) => !failed.has(c));
    for (const { target: t, meters } of done) {
      const p = t.path && { vlan: t.path.vlan, vmPort: t.path.vmPort, up: meters!.up, down: meters!.down, stray: [] };
      if (t.kind === 'station') {
        if (p) this.stations.set(t.mac, { mac: t.mac, ...p });
        else this.stations.delete(t.mac);
      } else if (p) this.slices.set(t.vlan, p);
      else this.slices.delete(t.vlan);
    }
    // Meters added for changes that failed are rolled back; those no longer used are deleted.
    await this.dropMeters([...[...failed.keys()].flatMap((c) => c.meters?.added ?? []), ...done.flatMap((c) => c.meters!.freed)]);
    // A failure may come from a cache gone stale (a meter deleted by hand): read the switch again.
    if (failed.size > 0) this.loaded = false;
    for (const [c, err] of failed) c.waiters.forEach((w) => w.reject(err));
    for (const c of done) c.waiters.forEach((w) => w.resolve());
    const slices = batch.filter((c) => c.target.kind === 'slice').length;
    this.opts.logger.debug('flushed paths', { stations: batch.length - slices, slices, failed: failed.size, spawns: this.spawns });
  }

  /** Adds or changes the meters a path needs; notes those it no longer needs. */
  private async prepareMeters(c: Change): Promise<void> {
    const old = this.programmedOf(c.target);
    const meters: NonNullable<Change['meters']> = { added: [], freed: [...(old?.stray ?? [])] };
    c.meters = meters;
    for (const dir of ['up', 'down'] as const) {
      const rate = dir === 'up' ? c.target.path?.uplinkKbps : c.target.path?.downlinkKbps;
      const id = old?.[dir];
      if (rate === undefined) {
        if (id !== undefined) meters.freed.push(id);
      } else if (id !== undefined && this.meterRates.has(id)) {
        // A meter deleted by hand since the last dump fails here or in the bundle: the next flush re-reads.
        if (this.meterRates.get(id) !== rate) await this.meter('mod-meter', id, rate);
        meters[dir] = id;
      } else {
        meters[dir] = await this.addMeter(rate);
        meters.added.push(meters[dir]!);
        if (id !== undefined) meters.freed.push(id); // named by the flows, but gone
      }
    }
  }

  /** Adds a meter at the lowest free id; an id taken behind our back is skipped, never overwritten. */
  private async addMeter(rate: number): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      if (!this.reserved.length) await this.reserveMeters(1); // a retry: the id was taken behind our back
      const id = this.reserved.shift()!;
      const err = await this.meter('add-meter', id, rate).then(() => undefined, (e: unknown) => e ?? 'add-meter failed');
      if (err === undefined) return id;
      await this.ledger.forget([id]).catch(() => undefined); // not added (or someone else's): not ours
      if (!/METER_EXISTS/.test(errorMessage(err)) || attempt === 20) throw err; // else someone else's: kept out
    }
  }

  /** How many meters a change will add: a rate whose meter it does not have yet. */
  private newMetersOf(c: Change): number {
    const old = this.programmedOf(c.target);
    const rates = [[c.target.path?.uplinkKbps, old?.up], [c.target.path?.downlinkKbps, old?.down]] as const;
    return rates.filter(([rate, id]) => rate !== undefined && (id === undefined || !this.meterRates.has(id))).length;
  }

  /**
   * Picks the lowest free meter ids and records them as ours in one OVSDB transaction, before
   * any is added: a kill before the flows go in leaves meters known to be ours.
   */
  private async reserveMeters(count: number): Promise<void> {
    const ids: number[] = [];
    for (let id = 1; ids.length < count; id++) if (!this.usedMeters.has(id)) ids.push(id);
    ids.forEach((id) => this.usedMeters.add(id));
    try {
      await this.ledger.record(ids);
    } catch (err) {
      ids.forEach((id) => this.usedMeters.delete(id));
      throw err;
    }
    this.reserved.push(...ids);
  }

  /** Reserved ids a batch did not use (a change failed before its meters) are free again. */
  private async releaseReserved(): Promise<void> {
    const unused = this.reserved.splice(0);
    unused.forEach((id) => this.usedMeters.delete(id));
    await this.ledger.forget(unused).catch(() => undefined); // left recorded, they are forgotten at the next load
  }

  private async meter(cmd: 'add-meter' | 'mod-meter', id: number, rate: number): Promise<void> {
    await this.ofctl([cmd, this.bridge, `meter=${id},kbps,burst,band=type=drop,rate=${rate},burst_size=${burstKbit(rate)}`]);
    this.meterRates.set(id, rate);
  }

  /** Deletes meters no flow of ours uses any more (deleting a meter deletes the flows using it). */
  private async dropMeters(ids: number[]): Promise<void> {
    const deleted: number[] = [];
    await mapLimit(ids, 4, async (id) => {
      try {
        await this.ofctl(['del-meter', this.bridge, `meter=${id}`]);
        this.meterRates.delete(id);
        this.usedMeters.delete(id);
        deleted.push(id);
      } catch (err) {
        this.opts.logger.warn('could not delete an unused meter', { bridge: this.bridge, meter: id, error: errorMessage(err) });
      }
    });
    // Still recorded if this fails: the next load deletes nothing more and forgets them then.
    await this.ledger.forget(deleted).catch((err: unknown) => this.opts.logger.warn('could not update the record of our meters', { bridge: this.bridge, error: errorMessage(err) }));
  }

  /** One bundle for the batch; if it fails, each station or slice alone, so that only the faulty ones fail. */
  private async commitFlows(ready: Change[]): Promise<Map<Change, unknown>> {
    const failed = new Map<Change, unknown>();
    if (ready.length === 0) return failed;
    try {
      await this.addFlows(ready.flatMap((c) => this.flowLines(c)));
    } catch (err) {
      if (ready.length === 1 || err instanceof DatapathUnavailableError) ready.forEach((c) => failed.set(c, err));
      else await mapLimit(ready, 4, (c) => this.addFlows(this.flowLines(c)).catch((e: unknown) => void failed.set(c, e)));
    }
    return failed;
  }

  private flowLines({ cookie, target: t, meters }: Change): string[] {
    const del = `delete cookie=${cookie}/-1`;
    if (!t.path) return [del];
    const { up, down } = meters!;
    const meter = (id: number | undefined): string => (id === undefined ? '' : `meter:${id},`);
    const add = (table: number, match: string, actions: string): string => `add cookie=${cookie},table=${table},priority=100,${match},actions=${actions}`;
    if (t.kind === 'station') {
      return [del,
        add(0, `in_port=${this.uplink},dl_src=${t.mac}`, `${meter(up)}push_vlan:0x8100,set_field:${4096 + t.path.vlan}->vlan_vid,goto_table:1`),
        add(0, `in_port=${t.path.vmPort},dl_dst=${t.mac}`, `${meter(down)}goto_table:2`)];
    }
    return [del,
      ...(up === undefined ? [] : [add(1, `dl_vlan=${t.vlan}`, `${meter(up)}NORMAL`)]),
      add(2, `in_port=${t.path.vmPort}`, `${meter(down)}output:${this.uplink}`)];
  }

  /** One atomic bundle; each line starts with add or delete. */
  private async addFlows(lines: string[]): Promise<void> {
    await this.ofctl(['--bundle', 'add-flows', this.bridge, '-'], lines.join('\n') + '\n').catch(async (err: unknown) => {
      const port = /(\S+): invalid or unknown port/.exec(errorMessage(err))?.[1];
      throw port ? new Error(await explainUnknownPort((args) => this.vsctl(args), this.bridge, port)) : err;
    });
  }

  /**
   * One flow dump, one meter dump and the record of our meters. Meters our flows use are ours;
   * recorded meters no flow of ours uses were left behind (a controller killed between adding a
   * meter and its flows) and are deleted; the others are never touched.
   */
  private async load(): Promise<void> {
    const [flows, meters, recorded] = await Promise.all([
      this.ofctl(['--names', 'dump-flows', this.bridge, `cookie=${BASE_COOKIE}/0xffff000000000000`]),
      this.ofctl(['dump-meters', this.bridge]),
      this.ledger.load(),
    ]);
    ({ stations: this.stations, slices: this.slices } = parseFlows(flows, this.uplink));
    this.meterRates = parseMeters(meters);
    this.usedMeters = new Set(this.meterRates.keys());
    const referenced = new Set<number>();
    for (const p of [...this.stations.values(), ...this.slices.values()]) {
      for (const id of [p.up, p.down, ...p.stray]) if (id !== undefined) referenced.add(id);
    }
    for (const id of referenced) this.usedMeters.add(id);
    const leftovers = [...recorded].filter((id) => this.meterRates.has(id) && !referenced.has(id));
    if (leftovers.length) {
      this.opts.logger.info('deleting meters of ours that no flow uses (left by an interrupted change)', { bridge: this.bridge, meters: leftovers });
      await this.dropMeters(leftovers);
    }
    // Recorded but gone (deleted by hand, or ovs-vswitchd restarted): no longer ours to track.
    await this.ledger.forget([...recorded].filter((id) => !this.meterRates.has(id))).catch(() => undefined);
    this.loaded = true;
  }
  private ofctl(args: string[], input?: string): Promise<string> {
    return this.run(this.opts.ofctl ?? 'ovs-ofctl', ['-O', 'OpenFlow13', ...args], input);
  }

  private vsctl(args: string[]): Promise<string> {
    return this.run(this.opts.vsctl ?? 'ovs-vsctl', [`--timeout=${VSCTL_TIMEOUT_S}`, ...args]);
  }

  private run(file: string, args: string[], input?: string): Promise<string> {
    this.spawns++;
    return new Promise((resolve, reject) => {
      const child = execFile(file, args, { timeout: 60_000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const detail = String(stderr).trim() || err.message;
        const message = `${basename(file)} ${args.join(' ').slice(0, 120)}: ${detail}`;
        reject(UNAVAILABLE.test(detail) || err.killed ? new DatapathUnavailableError(message) : new Error(message));
      });
      child.stdin?.on('error', () => {}); // the process may exit before reading everything
      child.stdin?.end(input ?? '');
    });
  }
}

/** Runs fn over items, at most `limit` at a time (processes, on a small machine). */
async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}
