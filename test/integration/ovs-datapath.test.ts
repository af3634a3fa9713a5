// OvsDatapath on a real Open vSwitch (userspace datapath): flows, meters, ports, real pings
// between network namespaces and real TCP throughput (iperf3) through station and slice meters.
// Each run has its own bridge, veths and namespaces (see OvsTestbed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvsDatapath } from '../../src/adapters/ovs-datapath.js';
import { silentLogger } from '../../src/core/logger.js';
import { DatapathUnavailableError, type ClientPath, type SlicePath } from '../../src/ports/datapath.js';
import { OvsTestbed, ovsTestsEnabled, sh } from '../helpers/ovs-testbed.js';

const enabled = ovsTestsEnabled();
const cookieOf = (mac: string): string => `0x5758${mac.replace(/:/g, '')}`;
const sliceCookieOf = (vlan: number): string => `0x575801000000${vlan.toString(16).padStart(4, '0')}`;
const mac = (group: number, i: number): string => `02:00:00:00:${group.toString(16).padStart(2, '0')}:${i.toString(16).padStart(2, '0')}`;
/** Meter ids in a station's or slice's flows. */
const meterRefs = (lines: string[]): number[] => lines.flatMap((l) => [...l.matchAll(/meter:(\d+)/g)].map((m) => Number(m[1])));

describe.runIf(enabled)('OvsDatapath on a real Open vSwitch', () => {
  let tb: OvsTestbed;
  let dp: OvsDatapath;
  const fresh = (): OvsDatapath => new OvsDatapath({ bridge: tb.bridge, uplink: tb.uplink, logger: silentLogger });
  const qosRowsOf = (port: string): number => (JSON.parse(sh('ovs-vsctl', '--format=json', '--columns=_uuid', 'find', 'QoS', `external_ids:wimaxvm-port="${port}"`)) as { data: unknown[] }).data.length;
  /** A slice's flows in table 1 (uplink) and table 2 (downlink). */
  const sliceFlows = (vlan: number): { up: string[]; down: string[] } => {
    const all = tb.flows(sliceCookieOf(vlan));
    return { up: all.filter((l) => l.includes('table=1,')), down: all.filter((l) => l.includes('table=2,')) };
  };

  beforeAll(async () => {
    tb = OvsTestbed.create();
    dp = fresh();
    await dp.ensureBase();
  });

  afterAll(() => {
    tb?.stopIperfProcesses();
    tb?.dispose();
  });

  it('ensureBase programs the drop flow for unknown stations and the slice tables\' defaults, idempotently', async () => {
    await dp.ensureBase();
    const base = tb.flows('0x5758000000000000');
    expect(base).toHaveLength(3);
    expect(base.filter((l) => !/table=[12],/.test(l))).toEqual([expect.stringContaining(`priority=10,in_port=${tb.uplink} actions=drop`)]);
    expect(base.find((l) => l.includes('table=1,'))).toContain('priority=0 actions=NORMAL');
    expect(base.find((l) => l.includes('table=2,'))).toContain(`priority=0 actions=output:${tb.uplink}`);
    // The bridge's own default flow is not ours and stays.
    expect(tb.ofctl('--no-stats', 'dump-flows', tb.bridge, 'table=0,cookie=0/-1')).toMatch(/^\s*priority=0 actions=NORMAL$/m);
  });

  it('ensureBase creates a missing bridge (netdev) and then names the missing uplink', async () => {
    const bridge = `wxt${tb.run}n`;
    tb.extraBridges.push(bridge);
    const other = new OvsDatapath({ bridge, uplink: 'nosuchup', logger: silentLogger });
    const err = await other.ensureBase().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatapathUnavailableError);
    expect((err as Error).message).toMatch(/uplink port nosuchup is not on OVS bridge/);
    expect(sh('ovs-vsctl', 'get', 'Bridge', bridge, 'datapath_type').trim()).toBe('netdev');
    // A port on another bridge is not ours: its bridge's own internal port.
    expect(await dp.getPort(bridge)).toBeUndefined();
  });

  it('an uplink listed on the bridge but without a network device (ofport -1) is named as such, with the fix', async () => {
    const bridge = `wxt${tb.run}d`;
    const uplink = `wx${tb.run}nd`; // no such device on the host
    tb.extraBridges.push(bridge);
    sh('ovs-vsctl', '--timeout=20', 'add-br', bridge, '--', 'set', 'Bridge', bridge, 'datapath_type=netdev');
    try { sh('ovs-vsctl', '--timeout=20', 'add-port', bridge, uplink); } catch { /* "could not open network device": the port is added anyway */ }
    const err = await new OvsDatapath({ bridge, uplink, logger: silentLogger }).ensureBase().catch((e: unknown) => e);
    expect((err as Error).message).toBe(`port ${uplink} is on ${bridge} but has no network device (ofport -1: could not open network device ${uplink} (No such device)); `
      + `create the device, or make it an internal port: ovs-vsctl set interface ${uplink} type=internal`);
    // A port of another bridge is named with its bridge.
    const elsewhere = await new OvsDatapath({ bridge: tb.bridge, uplink: tb.uplink, logger: silentLogger })
      .applyClientPath({ mac: mac(1, 9), vlan: 7, vmPort: uplink }).catch((e: unknown) => e);
    expect((elsewhere as Error).message).toBe(`port ${uplink} is on OVS bridge ${bridge}, not on ${tb.bridge}`);
  });

  it('an unreachable bridge or a missing tool is DatapathUnavailableError', async () => {
    const none = new OvsDatapath({ bridge: `wxt${tb.run}z`, uplink: 'up', logger: silentLogger });
    await expect(none.refresh()).rejects.toBeInstanceOf(DatapathUnavailableError);
    await expect(none.applyClientPath({ mac: mac(1, 1), vlan: 7, vmPort: 'x' })).rejects.toBeInstanceOf(DatapathUnavailableError);
    const noTool = new OvsDatapath({ bridge: tb.bridge, uplink: tb.uplink, logger: silentLogger, vsctl: '/nonexistent/ovs-vsctl' });
    await expect(noTool.getPort(tb.portA)).rejects.toBeInstanceOf(DatapathUnavailableError);
  });

  it('applied paths read back equal after a refresh, with their cookie and meters', async () => {
    const plain: ClientPath = { mac: mac(2, 1), vlan: 7, vmPort: tb.portA };
    const shaped: ClientPath = { mac: mac(2, 2), vlan: 9, vmPort: tb.portB, uplinkKbps: 2000, downlinkKbps: 8000 };
    await Promise.all([dp.applyClientPath(plain), dp.applyClientPath(shaped)]);
    expect(dp.clientPath(plain.mac)).toEqual(plain); // our own changes, without a dump
    await dp.refresh();
    expect(dp.clientPath(plain.mac)).toStrictEqual(plain);
    expect(dp.clientPath(shaped.mac)).toStrictEqual(shaped);
    expect(dp.clientMacs()).toEqual(expect.arrayContaining([plain.mac, shaped.mac]));

    const flows = tb.flows(cookieOf(shaped.mac));
    expect(flows).toHaveLength(2);
    expect(flows.join('\n')).toContain(`in_port=${tb.uplink},dl_src=${shaped.mac} actions=meter:`);
    expect(flows.join('\n')).toContain('set_field:4105->vlan_vid,goto_table:1');
    expect(flows.join('\n')).toMatch(new RegExp(`in_port=${tb.portB},dl_dst=${shaped.mac} actions=meter:\\d+,goto_table:2`));
    expect(tb.flows(cookieOf(plain.mac)).join('\n')).toContain(`in_port=${tb.portA},dl_dst=${plain.mac} actions=goto_table:2`);
    const up = meterRefs(flows.filter((l) => l.includes('dl_src')))[0]!;
    const down = meterRefs(flows.filter((l) => l.includes('dl_dst')))[0]!;
    const meters = tb.meters();
    expect(meters.get(up)).toBe(2000);
    expect(meters.get(down)).toBe(8000);
    expect(meterRefs(tb.flows(cookieOf(plain.mac)))).toEqual([]);

    // A rate change keeps the meter (mod-meter); dropping a rate deletes its meter.
    await dp.applyClientPath({ ...shaped, uplinkKbps: 3000, downlinkKbps: undefined });
    await dp.refresh();
    expect(dp.clientPath(shaped.mac)).toStrictEqual({ ...plain, mac: shaped.mac, vlan: 9, vmPort: tb.portB, uplinkKbps: 3000 });
    expect(tb.meters().get(up)).toBe(3000);
    expect(tb.meters().has(down)).toBe(false);

    await Promise.all([dp.removeClientPath(plain.mac), dp.removeClientPath(shaped.mac)]);
    expect(dp.clientPath(plain.mac)).toBeUndefined();
    await dp.refresh();
    expect(dp.clientPath(shaped.mac)).toBeUndefined();
    expect(tb.flows(cookieOf(shaped.mac))).toEqual([]);
    expect(tb.meters().has(up)).toBe(false);
  });

  it('applied slice paths read back equal, apart from stations, with their cookie, tables and meters', async () => {
    const both: SlicePath = { vlan: 107, vmPort: tb.portA, uplinkKbps: 2000, downlinkKbps: 3000 };
    const down: SlicePath = { vlan: 109, vmPort: tb.portB, downlinkKbps: 1000 };
    const station: ClientPath = { mac: mac(9, 1), vlan: 107, vmPort: tb.portA, uplinkKbps: 500 };
    const d = fresh();
    await d.refresh();
    const before = d.spawns;
    await Promise.all([d.applySlicePath(both), d.applySlicePath(down), d.applyClientPath(station)]);
    expect(d.spawns - before).toBe(4 + 1 + 1); // a process per meter, one bundle for stations and slices together, one OVSDB transaction recording the meters as ours
    expect(d.slicePath(both.vlan)).toStrictEqual(both); // our own changes, without a dump
    await d.refresh();
    expect(d.slicePath(both.vlan)).toStrictEqual(both);
    expect(d.slicePath(down.vlan)).toStrictEqual(down);
    expect(d.clientPath(station.mac)).toStrictEqual(station);
    expect(d.sliceVlans().sort()).toEqual([107, 109]);
    expect(d.clientMacs()).toEqual([station.mac]); // slice cookies are not stations
    expect(d.slicePath(108)).toBeUndefined();

    const f = sliceFlows(both.vlan);
    expect(f.up).toEqual([expect.stringMatching(/table=1, priority=100,dl_vlan=107 actions=meter:\d+,NORMAL$/)]);
    expect(f.down).toEqual([expect.stringMatching(new RegExp(`table=2, priority=100,in_port=${tb.portA} actions=meter:\\d+,output:${tb.uplink}$`))]);
    expect(tb.flows(sliceCookieOf(107))[0]).toContain('cookie=0x575801000000006b');
    const [upId] = meterRefs(f.up);
    const [downId] = meterRefs(f.down);
    expect(tb.meters().get(upId!)).toBe(2000);
    expect(tb.meters().get(downId!)).toBe(3000);
    // No uplink rate: no table-1 flow; the table-2 flow is there (it names the VM port).
    expect(sliceFlows(down.vlan).up).toEqual([]);
    expect(sliceFlows(down.vlan).down).toHaveLength(1);
    // Station and slice meters come from one allocator.
    const ids = [...meterRefs(tb.flows(cookieOf(station.mac))), ...meterRefs(tb.flows(sliceCookieOf(107))), ...meterRefs(tb.flows(sliceCookieOf(109)))];
    expect(new Set(ids).size).toBe(4);

    // A rate change keeps its meter; a dropped uplink rate deletes the table-1 flow and its meter.
    await d.applySlicePath({ ...both, uplinkKbps: undefined, downlinkKbps: 2500 });
    await d.refresh();
    expect(d.slicePath(both.vlan)).toStrictEqual({ vlan: 107, vmPort: tb.portA, downlinkKbps: 2500 });
    expect(sliceFlows(both.vlan).up).toEqual([]);
    expect(tb.meters().has(upId!)).toBe(false);
    expect(tb.meters().get(downId!)).toBe(2500);

    // Removing a slice leaves the station alone, and the other way round.
    await Promise.all([d.removeSlicePath(both.vlan), d.removeClientPath(station.mac)]);
    expect(d.slicePath(both.vlan)).toBeUndefined();
    await d.refresh();
    expect(d.sliceVlans()).toEqual([109]);
    expect(d.clientMacs()).toEqual([]);
    expect(tb.flows(sliceCookieOf(107))).toEqual([]);
    expect(tb.meters().has(downId!)).toBe(false);
    await d.removeSlicePath(down.vlan);
    await d.refresh();
    expect(d.sliceVlans()).toEqual([]);
    await dp.refresh();
  });

  /** Pings: a station reaches the VM it is bound to and no other, through rebinding. */
  const bindingScenario = async (): Promise<void> => {
    const { st1, st2, vmA, vmB } = tb;
    expect(tb.ping(st1.ns, vmA.ip, 1)).toBe(false); // no path: dropped at the uplink

    await dp.applyClientPath({ mac: st1.mac, vlan: 7, vmPort: tb.portA, uplinkKbps: 10_000, downlinkKbps: 10_000 });
    expect(tb.ping(st1.ns, vmA.ip)).toBe(true);
    expect(tb.ping(st1.ns, vmB.ip, 1)).toBe(false);

    await dp.applyClientPath({ mac: st1.mac, vlan: 9, vmPort: tb.portB }); // rebinding
    expect(tb.ping(st1.ns, vmB.ip)).toBe(true);
    expect(tb.ping(st1.ns, vmA.ip, 1)).toBe(false);

    await Promise.all([
      dp.applyClientPath({ mac: st1.mac, vlan: 7, vmPort: tb.portA }),
      dp.applyClientPath({ mac: st2.mac, vlan: 9, vmPort: tb.portB }),
    ]);
    expect(tb.ping(st2.ns, vmB.ip)).toBe(true);
    expect(tb.ping(st2.ns, vmA.ip, 1)).toBe(false);
    expect(tb.ping(st1.ns, vmA.ip)).toBe(true);
    expect(tb.ping(st1.ns, vmB.ip, 1)).toBe(false);

    await Promise.all([dp.removeClientPath(st1.mac), dp.removeClientPath(st2.mac)]);
    for (const st of [st1, st2]) for (const vm of [vmA, vmB]) expect(tb.ping(st.ns, vm.ip, 1)).toBe(false);
  };

  it('real traffic: a station reaches only the VM it is bound to', async () => {
    await bindingScenario();
  });

  it('real traffic: the same with slice rates on both VMs\' slices', async () => {
    const slices: SlicePath[] = [
      { vlan: 7, vmPort: tb.portA, uplinkKbps: 50_000, downlinkKbps: 50_000 },
      { vlan: 9, vmPort: tb.portB, downlinkKbps: 40_000 },
    ];
    await Promise.all(slices.map((s) => dp.applySlicePath(s)));
    try {
      await bindingScenario();
      await dp.refresh();
      for (const s of slices) expect(dp.slicePath(s.vlan)).toStrictEqual(s);
    } finally {
      await Promise.all(slices.map((s) => dp.removeSlicePath(s.vlan)));
    }
    expect(dp.sliceVlans()).toEqual([]);
  });

  it('flows and meters of others survive every change, and a meter id taken behind our back is skipped', async () => {
    const foreignMac = '02:00:00:00:99:01';
    tb.ofctl('add-meter', tb.bridge, 'meter=900,kbps,band=type=drop,rate=5000');
    tb.ofctl('add-meter', tb.bridge, 'meter=901,kbps,band=type=drop,rate=6000');
    tb.ofctl('add-flow', tb.bridge, `cookie=0x1234,priority=50,in_port=${tb.uplink},dl_src=${foreignMac},actions=meter:901,output:${tb.portA}`);
    await dp.refresh();
    // A meter added by someone else after our last dump, at the id we would pick next.
    let next = 1;
    while (tb.meters().has(next)) next++;
    tb.ofctl('add-meter', tb.bridge, `meter=${next},kbps,band=type=drop,rate=777`);

    const path: ClientPath = { mac: mac(3, 1), vlan: 7, vmPort: tb.portA, uplinkKbps: 1000, downlinkKbps: 1000 };
    const slice: SlicePath = { vlan: 7, vmPort: tb.portA, uplinkKbps: 1200, downlinkKbps: 1300 };
    await Promise.all([dp.applyClientPath(path), dp.applySlicePath(slice)]);
    expect(meterRefs(tb.flows(cookieOf(path.mac)))).not.toContain(next);
    expect(meterRefs(tb.flows(sliceCookieOf(7)))).not.toContain(next);
    await Promise.all([dp.applyClientPath({ ...path, uplinkKbps: 1500 }), dp.applySlicePath({ ...slice, uplinkKbps: 1600 })]);
    await dp.ensureBase();
    await dp.refresh();
    expect(dp.clientPath(path.mac)).toStrictEqual({ ...path, uplinkKbps: 1500 });
    expect(dp.slicePath(7)).toStrictEqual({ ...slice, uplinkKbps: 1600 });
    await Promise.all([dp.removeClientPath(path.mac), dp.removeSlicePath(7)]);
    await dp.refresh();
    await fresh().refresh();

    const meters = tb.meters();
    expect(meters.get(900)).toBe(5000);
    expect(meters.get(901)).toBe(6000);
    expect(meters.get(next)).toBe(777);
    expect(tb.flows('0x1234')).toHaveLength(1);
    expect(dp.clientMacs()).not.toContain(foreignMac);
    tb.ofctl('del-flows', tb.bridge, 'cookie=0x1234/-1');
    for (const id of [900, 901, next]) tb.ofctl('del-meter', tb.bridge, `meter=${id}`);
  });

  it('200 concurrent changes, stations and slices, are batched into a few processes', async () => {
    const d = fresh();
    const paths: ClientPath[] = Array.from({ length: 200 }, (_, i) => ({ mac: mac(4, i), vlan: i % 2 ? 9 : 7, vmPort: i % 2 ? tb.portB : tb.portA }));
    const slices: SlicePath[] = [{ vlan: 7, vmPort: tb.portA, uplinkKbps: 9000 }, { vlan: 9, vmPort: tb.portB, downlinkKbps: 9000 }];
    const before = d.spawns;
    await Promise.all([...paths.map((p) => d.applyClientPath(p)), ...slices.map((s) => d.applySlicePath(s))]);
    expect(d.spawns - before).toBeLessThan(20);
    await d.refresh();
    for (const p of paths) expect(d.clientPath(p.mac)).toStrictEqual(p);
    for (const s of slices) expect(d.slicePath(s.vlan)).toStrictEqual(s);

    const removing = d.spawns;
    await Promise.all([...paths.map((p) => d.removeClientPath(p.mac)), ...slices.map((s) => d.removeSlicePath(s.vlan))]);
    expect(d.spawns - removing).toBeLessThan(20);
    await d.refresh();
    expect(paths.filter((p) => d.clientPath(p.mac))).toEqual([]);
    expect(d.sliceVlans()).toEqual([]);
  });

  it('a station whose VM port is missing fails alone; its new meters are rolled back', async () => {
    const good = [mac(5, 1), mac(5, 2)].map((m) => ({ mac: m, vlan: 7, vmPort: tb.portA }));
    const metersBefore = tb.meters().size;
    const results = await Promise.allSettled([
      ...good.map((p) => dp.applyClientPath(p)),
      dp.applyClientPath({ mac: mac(5, 3), vlan: 7, vmPort: 'wxnoport', uplinkKbps: 100, downlinkKbps: 100 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/port wxnoport is not on OVS bridge/);
    expect(tb.meters().size).toBe(metersBefore);
    await dp.refresh();
    for (const p of good) expect(dp.clientPath(p.mac)).toStrictEqual(p);
    expect(dp.clientPath(mac(5, 3))).toBeUndefined();
    await Promise.all(good.map((p) => dp.removeClientPath(p.mac)));
  });

  it('a slice whose VM port is missing fails alone, in a batch with stations and slices', async () => {
    const station: ClientPath = { mac: mac(5, 4), vlan: 7, vmPort: tb.portA, downlinkKbps: 700 };
    const slice: SlicePath = { vlan: 7, vmPort: tb.portA, uplinkKbps: 900 };
    const metersBefore = tb.meters().size;
    const results = await Promise.allSettled([
      dp.applyClientPath(station),
      dp.applySlicePath(slice),
      dp.applySlicePath({ vlan: 8, vmPort: 'wxnoport', uplinkKbps: 100, downlinkKbps: 100 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/port wxnoport is not on OVS bridge/);
    expect(tb.meters().size).toBe(metersBefore + 2);
    await dp.refresh();
    expect(dp.clientPath(station.mac)).toStrictEqual(station);
    expect(dp.slicePath(7)).toStrictEqual(slice);
    expect(dp.slicePath(8)).toBeUndefined();
    await Promise.all([dp.removeClientPath(station.mac), dp.removeSlicePath(7)]);
    expect(tb.meters().size).toBe(metersBefore);
  });

  it('drift: a flow or meter deleted by hand, or a VM port re-added, is seen and repaired', async () => {
    const path: ClientPath = { mac: mac(6, 1), vlan: 7, vmPort: tb.portA, uplinkKbps: 4000, downlinkKbps: 4000 };
    const cookie = cookieOf(path.mac);
    const repair = async (): Promise<void> => {
      await dp.refresh();
      expect(dp.clientPath(path.mac)).not.toEqual(path);
      expect(dp.clientMacs()).toContain(path.mac); // still listed, so it can be removed too
      await dp.applyClientPath(path);
      await dp.refresh();
      expect(dp.clientPath(path.mac)).toStrictEqual(path);
      expect(tb.flows(cookie)).toHaveLength(2);
    };
    await dp.applyClientPath(path);

    tb.ofctl('del-flows', tb.bridge, `cookie=${cookie}/-1,dl_dst=${path.mac}`);
    await repair();

    // OVS deletes the flows that use a meter along with it.
    const [upMeter] = meterRefs(tb.flows(cookie).filter((l) => l.includes('dl_src')));
    tb.ofctl('del-meter', tb.bridge, `meter=${upMeter}`);
    await repair();
    expect(tb.meters().get(meterRefs(tb.flows(cookie))[0]!)).toBe(4000);

    // The same port name with a new ofport: the flow still names the old one.
    sh('ovs-vsctl', '--timeout=20', 'del-port', tb.bridge, tb.portA);
    sh('ovs-vsctl', '--timeout=20', 'add-port', tb.bridge, tb.portA, 'tag=7');
    await repair();

    // A meter deleted by hand since the last refresh: the apply that trips over it fails and
    // makes the next one read the switch again.
    tb.ofctl('del-meter', tb.bridge, `meter=${meterRefs(tb.flows(cookie))[0]}`);
    await expect(dp.applyClientPath(path)).rejects.toThrow(/METER/);
    await dp.applyClientPath(path);
    await dp.refresh();
    expect(dp.clientPath(path.mac)).toStrictEqual(path);

    // A meter's rate changed by hand.
    const [downMeter] = meterRefs(tb.flows(cookie).filter((l) => l.includes('dl_dst')));
    tb.ofctl('mod-meter', tb.bridge, `meter=${downMeter},kbps,band=type=drop,rate=123`);
    await repair();
    await dp.removeClientPath(path.mac);
  });

  it('drift: a slice flow or meter deleted or changed by hand is seen and repaired', async () => {
    const slice: SlicePath = { vlan: 107, vmPort: tb.portA, uplinkKbps: 4000, downlinkKbps: 4000 };
    const cookie = sliceCookieOf(slice.vlan);
    const repair = async (): Promise<void> => {
      await dp.refresh();
      expect(dp.slicePath(slice.vlan)).not.toEqual(slice);
      expect(dp.sliceVlans()).toContain(slice.vlan); // still listed, so it can be removed too
      await dp.applySlicePath(slice);
      await dp.refresh();
      expect(dp.slicePath(slice.vlan)).toStrictEqual(slice);
      expect(sliceFlows(slice.vlan).up).toHaveLength(1);
      expect(sliceFlows(slice.vlan).down).toHaveLength(1);
    };
    await dp.applySlicePath(slice);

    tb.ofctl('del-flows', tb.bridge, `table=1,cookie=${cookie}/-1`);
    await repair();
    tb.ofctl('del-flows', tb.bridge, `table=2,cookie=${cookie}/-1`);
    await repair();
    tb.ofctl('del-meter', tb.bridge, `meter=${meterRefs(sliceFlows(slice.vlan).down)[0]}`); // and with it its flow
    await repair();
    tb.ofctl('mod-meter', tb.bridge, `meter=${meterRefs(sliceFlows(slice.vlan).up)[0]},kbps,band=type=drop,rate=123`);
    await repair();
    // A second flow under the slice's cookie damages it; re-applying removes it.
    tb.ofctl('add-flow', tb.bridge, `table=1,cookie=${cookie},priority=100,dl_vlan=999,actions=NORMAL`);
    await repair();

    await dp.removeSlicePath(slice.vlan);
    expect(tb.flows(cookie)).toEqual([]);
  });

  it('station flows of an older wimaxvm (no slice tables) read as damaged and are replaced', async () => {
    const path: ClientPath = { mac: mac(6, 2), vlan: 7, vmPort: tb.portA, uplinkKbps: 600 };
    const cookie = cookieOf(path.mac);
    tb.ofctl('add-meter', tb.bridge, 'meter=950,kbps,burst,band=type=drop,rate=600,burst_size=180');
    tb.ofctl('add-flow', tb.bridge, `cookie=${cookie},priority=100,in_port=${tb.uplink},dl_src=${path.mac},actions=meter:950,push_vlan:0x8100,set_field:4103->vlan_vid,NORMAL`);
    tb.ofctl('add-flow', tb.bridge, `cookie=${cookie},priority=100,in_port=${tb.portA},dl_dst=${path.mac},actions=output:${tb.uplink}`);
    await dp.refresh();
    expect(dp.clientMacs()).toContain(path.mac);
    expect(dp.clientPath(path.mac)).not.toEqual(path);
    await dp.applyClientPath(path);
    expect(tb.flows(cookie).join('\n')).toContain('goto_table:1');
    expect(tb.meters().has(950)).toBe(false); // its meter was the old flow's: freed
    await dp.refresh();
    expect(dp.clientPath(path.mac)).toStrictEqual(path);
    await dp.removeClientPath(path.mac);
  });

  it('a restarted controller sees existing paths and reuses no meter id in use', async () => {
    const paths: ClientPath[] = [1, 2, 3].map((i) => ({ mac: mac(7, i), vlan: 9, vmPort: tb.portB, uplinkKbps: 1000 * i, downlinkKbps: 500 * i }));
    await Promise.all(paths.map((p) => dp.applyClientPath(p)));
    const inUse = new Set(tb.meters().keys());

    const restarted = fresh();
    await restarted.refresh();
    for (const p of paths) expect(restarted.clientPath(p.mac)).toStrictEqual(p);
    const added: ClientPath = { mac: mac(7, 9), vlan: 7, vmPort: tb.portA, uplinkKbps: 100, downlinkKbps: 100 };
    await restarted.applyClientPath(added);
    const ids = meterRefs(tb.flows(cookieOf(added.mac)));
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(inUse.has(id)).toBe(false);

    // Removing through the new instance deletes the meters the old one created.
    const ours = paths.flatMap((p) => meterRefs(tb.flows(cookieOf(p.mac))));
    await Promise.all([...paths, added].map((p) => restarted.removeClientPath(p.mac)));
    const after = tb.meters();
    for (const id of [...ours, ...ids]) expect(after.has(id)).toBe(false);
    await dp.refresh();
  });

  it('kill -9 between add-meter and the flow bundle: the next start deletes the meters it left, and only those', async () => {
    tb.ofctl('add-meter', tb.bridge, 'meter=960,kbps,band=type=drop,rate=960'); // someone else's, used by no flow
    const before = new Set(tb.meters().keys());
    // A controller process whose ovs-ofctl kills it (SIGKILL) when the flow bundle is about to go in.
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-kill-'));
    const ofctl = join(dir, 'ovs-ofctl');
    writeFileSync(ofctl, '#!/bin/bash\nfor a in "$@"; do [ "$a" = add-flows ] && { kill -9 $PPID; exit 1; }; done\nexec ovs-ofctl "$@"\n', { mode: 0o755 });
    const script = `import { OvsDatapath } from ${JSON.stringify(join(process.cwd(), 'dist/src/adapters/ovs-datapath.js'))};
      const dp = new OvsDatapath({ bridge: ${JSON.stringify(tb.bridge)}, uplink: ${JSON.stringify(tb.uplink)}, ofctl: ${JSON.stringify(ofctl)}, logger: { debug() {}, info() {}, warn() {}, error() {} } });
      await dp.applyClientPath({ mac: '${mac(8, 1)}', vlan: 7, vmPort: ${JSON.stringify(tb.portA)}, uplinkKbps: 1111, downlinkKbps: 2222 });`;
    const killed = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(killed.signal).toBe('SIGKILL');
    const left = [...tb.meters().keys()].filter((id) => !before.has(id));
    expect(left).toHaveLength(2); // its two meters were added, its flows never
    expect(tb.flows(cookieOf(mac(8, 1)))).toEqual([]);

    const next = fresh();
    await next.refresh();
    const after = tb.meters();
    for (const id of left) expect(after.has(id)).toBe(false);
    expect(after.get(960)).toBe(960); // not ours: never touched
    expect(sh('ovs-vsctl', 'get', 'Bridge', tb.bridge, 'external_ids')).not.toMatch(/wimaxvm-meter-/);
    tb.ofctl('del-meter', tb.bridge, 'meter=960');
  });

  it('a restarted controller sees existing slice paths and reuses no meter id in use', async () => {
    const slices: SlicePath[] = [
      { vlan: 107, vmPort: tb.portA, uplinkKbps: 1000, downlinkKbps: 2000 },
      { vlan: 4094, vmPort: tb.portB, uplinkKbps: 3000 },
    ];
    const station: ClientPath = { mac: mac(7, 1), vlan: 107, vmPort: tb.portA, uplinkKbps: 100 };
    await Promise.all([...slices.map((s) => dp.applySlicePath(s)), dp.applyClientPath(station)]);
    const inUse = new Set(tb.meters().keys());

    const restarted = fresh();
    await restarted.refresh();
    for (const s of slices) expect(restarted.slicePath(s.vlan)).toStrictEqual(s);
    expect(restarted.sliceVlans().sort()).toEqual([107, 4094]);
    expect(restarted.clientPath(station.mac)).toStrictEqual(station);

    // New meters, for a slice's new rate and a station's, take ids nobody uses.
    await Promise.all([
      restarted.applySlicePath({ ...slices[1]!, downlinkKbps: 500 }),
      restarted.applyClientPath({ ...station, downlinkKbps: 200 }),
    ]);
    const fresh2 = [...meterRefs(sliceFlows(4094).down), ...meterRefs(tb.flows(cookieOf(station.mac)).filter((l) => l.includes('dl_dst')))];
    expect(fresh2).toHaveLength(2);
    for (const id of fresh2) expect(inUse.has(id)).toBe(false);

    // Removing through the new instance deletes the meters the old one created.
    const ours = [...slices.flatMap((s) => meterRefs(tb.flows(sliceCookieOf(s.vlan)))), ...meterRefs(tb.flows(cookieOf(station.mac)))];
    await Promise.all([...slices.map((s) => restarted.removeSlicePath(s.vlan)), restarted.removeClientPath(station.mac)]);
    const after = tb.meters();
    for (const id of ours) expect(after.has(id)).toBe(false);
    await dp.refresh();
    expect(dp.sliceVlans()).toEqual([]);
  });

  it('real TCP: a slice holds its stations to its rates, a lower station rate wins, and removing it lifts the limit', async () => {
    const { st1, st2, vmA } = tb;
    const IPERF = 5201;
    tb.enableTcp();
    await tb.startIperfProcess(vmA.ns, IPERF);
    await tb.startIperfProcess(vmA.ns, IPERF + 1);
    const slice: SlicePath = { vlan: 7, vmPort: tb.portA, uplinkKbps: 2000, downlinkKbps: 3000 };
    const bind = (st: typeof st1, rates: Partial<ClientPath> = {}): Promise<void> => dp.applyClientPath({ mac: st.mac, vlan: 7, vmPort: tb.portA, ...rates });
    const kbps: Record<string, number> = {};
    try {
      await Promise.all([bind(st1), bind(st2), dp.applySlicePath(slice)]);
      kbps.sliceDown = tb.iperfKbps(st1.ns, vmA.ip, IPERF, true); // VM → station
      kbps.sliceUp = tb.iperfKbps(st1.ns, vmA.ip, IPERF); // station → VM
      // Two stations of the slice at once share its uplink rate.
      const [a, b] = await Promise.all([tb.iperfKbpsAsync(st1.ns, vmA.ip, IPERF), tb.iperfKbpsAsync(st2.ns, vmA.ip, IPERF + 1)]);
      kbps.sliceUpTwoStations = a + b;
      await bind(st1, { uplinkKbps: 1000 });
      kbps.stationUpUnderSlice = tb.iperfKbps(st1.ns, vmA.ip, IPERF);
      await Promise.all([bind(st1), dp.removeSlicePath(slice.vlan)]);
      const [up, down] = await Promise.all([tb.iperfKbpsAsync(st1.ns, vmA.ip, IPERF), tb.iperfKbpsAsync(st2.ns, vmA.ip, IPERF + 1, true)]);
      [kbps.freeUp, kbps.freeDown] = [up, down];
    } finally {
      await Promise.all([dp.removeClientPath(st1.mac), dp.removeClientPath(st2.mac), dp.removeSlicePath(slice.vlan)]);
      tb.stopIperfProcesses();
    }
    console.info('iperf3 (kbit/s):', JSON.stringify(Object.fromEntries(Object.entries(kbps).map(([k, v]) => [k, Math.round(v)]))));
    const near = (what: string, rate: number): void => {
      expect(kbps[what], `${what}: ${kbps[what]} kbit/s, rate ${rate}`).toBeGreaterThan(rate * 0.8);
      expect(kbps[what], `${what}: ${kbps[what]} kbit/s, rate ${rate}`).toBeLessThan(rate * 1.2);
    };
    near('sliceDown', 3000);
    near('sliceUp', 2000);
    near('sliceUpTwoStations', 2000);
    near('stationUpUnderSlice', 1000);
    expect(kbps.freeUp).toBeGreaterThan(5 * 2000);
    expect(kbps.freeDown).toBeGreaterThan(5 * 3000);
  });

  it('setPort sets and clears the tag; getPort reads it', async () => {
    const port = tb.portB;
    expect(await dp.getPort(port)).toStrictEqual({ tag: 9 });
    await dp.setPort(port, { tag: 12 });
    expect(await dp.getPort(port)).toStrictEqual({ tag: 12 });
    await fresh().setPort(port, {}); // a new instance looks the port up first
    expect(await dp.getPort(port)).toStrictEqual({});
    await dp.setPort(port, { tag: 9 });
    expect(await dp.getPort(port)).toStrictEqual({ tag: 9 });

    expect(await dp.getPort('wxnoport')).toBeUndefined();
    await expect(dp.setPort('wxnoport', { tag: 3 })).rejects.toThrow(/port wxnoport is not on OVS bridge/);
  });

  it('setPort clears the QoS and ingress policing an older wimaxvm set, and leaves others\' alone', async () => {
    const port = tb.portA;
    const iface = (col: string): string => sh('ovs-vsctl', 'get', 'Interface', port, col).trim();
    // What an older wimaxvm set: an egress policer named for the port, policing with a 300 ms burst.
    sh('ovs-vsctl', '--', 'set', 'Port', port, 'qos=@q', '--', '--id=@q', 'create', 'QoS', 'type=egress-policer', 'other-config:cir=250000',
      'other-config:cbs=75000', `external-ids:wimaxvm-port="${port}"`, '--', 'set', 'Interface', port, 'ingress_policing_rate=5000', 'ingress_policing_burst=1500');
    expect(qosRowsOf(port)).toBe(1);
    expect(await dp.getPort(port)).toStrictEqual({ tag: 7 });
    await dp.setPort(port, { tag: 7 });
    expect(qosRowsOf(port)).toBe(0);
    expect(sh('ovs-vsctl', 'get', 'Port', port, 'qos').trim()).toBe('[]');
    expect(iface('ingress_policing_rate')).toBe('0');

    // Set by hand: kept.
    const foreign = sh('ovs-vsctl', '--', 'set', 'Port', port, 'qos=@q', '--', '--id=@q', 'create', 'QoS', 'type=egress-policer', 'other-config:cir=1000', 'other-config:cbs=1000',
      '--', 'set', 'Interface', port, 'ingress_policing_rate=5000', 'ingress_policing_burst=500').trim();
    try {
      expect(await dp.getPort(port)).toStrictEqual({ tag: 7 });
      await dp.setPort(port, { tag: 7 });
      await fresh().setPort(port, { tag: 7 });
      expect(sh('ovs-vsctl', 'get', 'Port', port, 'qos').trim()).toBe(foreign);
      expect(iface('ingress_policing_rate')).toBe('5000');
    } finally {
      sh('ovs-vsctl', '--', 'clear', 'Port', port, 'qos', '--', '--if-exists', 'destroy', 'QoS', foreign, '--', 'set', 'Interface', port, 'ingress_policing_rate=0', 'ingress_policing_burst=0');
    }
  });

  it('bad input is rejected before any process is spawned', async () => {
    const before = dp.spawns;
    const ok: ClientPath = { mac: mac(8, 1), vlan: 7, vmPort: tb.portA };
    const bad: ClientPath[] = [
      { ...ok, mac: 'zz' },
      { ...ok, mac: '00:11:22:33:44:5G' },
      { ...ok, mac: '00:11:22:33:44:AA' },
      { ...ok, vmPort: 'vm port' },
      { ...ok, vmPort: 'a;b' },
      { ...ok, vmPort: 'x'.repeat(16) },
      { ...ok, vmPort: '12' },
      { ...ok, vmPort: 'NORMAL' },
      { ...ok, vlan: 0 },
      { ...ok, vlan: 5000 },
      { ...ok, vlan: 7.5 },
      { ...ok, uplinkKbps: 0 },
      { ...ok, downlinkKbps: 1.5 },
      { ...ok, uplinkKbps: -1 },
      { ...ok, mac: '01:00:00:00:00:07' }, // multicast: would be slice 7's cookie
      { ...ok, mac: '03:00:5e:00:00:01' },
    ];
    for (const p of bad) await expect(dp.applyClientPath(p), JSON.stringify(p)).rejects.toThrow(/invalid/);
    await expect(dp.removeClientPath('zz')).rejects.toThrow(/invalid MAC/);
    await expect(dp.removeClientPath('01:00:00:00:00:07')).rejects.toThrow(/invalid MAC/);
    const slice: SlicePath = { vlan: 7, vmPort: tb.portA, uplinkKbps: 1000 };
    const badSlices: SlicePath[] = [
      { vlan: 7, vmPort: tb.portA }, // no rate
      { ...slice, uplinkKbps: undefined, downlinkKbps: undefined },
      { ...slice, vlan: 0 },
      { ...slice, vlan: 4095 },
      { ...slice, vlan: 7.5 },
      { ...slice, vlan: NaN },
      { ...slice, vmPort: 'a;b' },
      { ...slice, vmPort: '' },
      { ...slice, vmPort: 'LOCAL' },
      { ...slice, uplinkKbps: 0 },
      { ...slice, uplinkKbps: 1.5 },
      { ...slice, downlinkKbps: -3 },
      { ...slice, downlinkKbps: 200_000_000 },
    ];
    for (const p of badSlices) await expect(dp.applySlicePath(p), JSON.stringify(p)).rejects.toThrow(/invalid/);
    for (const vlan of [0, 4095, 1.5, -1]) await expect(dp.removeSlicePath(vlan), String(vlan)).rejects.toThrow(/invalid VLAN/);
    await expect(dp.getPort('a b')).rejects.toThrow(/invalid port name/);
    await expect(dp.setPort('a;b', {})).rejects.toThrow(/invalid port name/);
    await expect(dp.setPort(tb.portA, { tag: 0 })).rejects.toThrow(/invalid VLAN/);
    expect(() => new OvsDatapath({ bridge: 'br;rm', uplink: 'up', logger: silentLogger })).toThrow(/invalid bridge name/);
    expect(dp.spawns).toBe(before);
  });
});
