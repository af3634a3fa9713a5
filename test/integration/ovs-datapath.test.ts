// OvsDatapath on a real Open vSwitch (userspace datapath): flows, meters, ports, and real pings
// between network namespaces. Each run has its own bridge, veths and namespaces (see OvsTestbed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvsDatapath } from '../../src/adapters/ovs-datapath.js';
import { silentLogger } from '../../src/core/logger.js';
import { DatapathUnavailableError, type ClientPath } from '../../src/ports/datapath.js';
import { OvsTestbed, ovsTestsEnabled, sh } from '../helpers/ovs-testbed.js';

const enabled = ovsTestsEnabled();
const cookieOf = (mac: string): string => `0x5758${mac.replace(/:/g, '')}`;
const mac = (group: number, i: number): string => `02:00:00:00:${group.toString(16).padStart(2, '0')}:${i.toString(16).padStart(2, '0')}`;
/** Meter ids in a station's flows. */
const meterRefs = (lines: string[]): number[] => lines.flatMap((l) => [...l.matchAll(/meter:(\d+)/g)].map((m) => Number(m[1])));

describe.runIf(enabled)('OvsDatapath on a real Open vSwitch', () => {
  let tb: OvsTestbed;
  let dp: OvsDatapath;
  const fresh = (): OvsDatapath => new OvsDatapath({ bridge: tb.bridge, uplink: tb.uplink, logger: silentLogger });
  const qosRowsOf = (port: string): number => (JSON.parse(sh('ovs-vsctl', '--format=json', '--columns=_uuid', 'find', 'QoS', `external_ids:wimaxvm-port="${port}"`)) as { data: unknown[] }).data.length;

  beforeAll(async () => {
    tb = OvsTestbed.create();
    dp = fresh();
    await dp.ensureBase();
  });

  afterAll(() => {
    tb?.dispose();
  });

  it('ensureBase programs one drop flow for unknown stations, idempotently', async () => {
    await dp.ensureBase();
    const base = tb.flows('0x5758000000000000');
    expect(base).toHaveLength(1);
    expect(base[0]).toContain(`priority=10,in_port=${tb.uplink} actions=drop`);
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
    expect(flows.join('\n')).toContain('set_field:4105->vlan_vid,NORMAL');
    expect(flows.join('\n')).toContain(`in_port=${tb.portB},dl_dst=${shaped.mac} actions=meter:`);
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

  it('real traffic: a station reaches only the VM it is bound to', async () => {
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
    await dp.applyClientPath(path);
    expect(meterRefs(tb.flows(cookieOf(path.mac)))).not.toContain(next);
    await dp.applyClientPath({ ...path, uplinkKbps: 1500 });
    await dp.ensureBase();
    await dp.refresh();
    expect(dp.clientPath(path.mac)).toStrictEqual({ ...path, uplinkKbps: 1500 });
    await dp.removeClientPath(path.mac);
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

  it('200 concurrent changes are batched into a few processes', async () => {
    const d = fresh();
    const paths: ClientPath[] = Array.from({ length: 200 }, (_, i) => ({ mac: mac(4, i), vlan: i % 2 ? 9 : 7, vmPort: i % 2 ? tb.portB : tb.portA }));
    const before = d.spawns;
    await Promise.all(paths.map((p) => d.applyClientPath(p)));
    expect(d.spawns - before).toBeLessThan(20);
    await d.refresh();
    for (const p of paths) expect(d.clientPath(p.mac)).toStrictEqual(p);

    const removing = d.spawns;
    await Promise.all(paths.map((p) => d.removeClientPath(p.mac)));
    expect(d.spawns - removing).toBeLessThan(20);
    await d.refresh();
    expect(paths.filter((p) => d.clientPath(p.mac))).toEqual([]);
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

  it('setPort and getPort round-trip the tag and both rates without leaking QoS rows', async () => {
    const port = tb.portB;
    expect(await dp.getPort(port)).toStrictEqual({ tag: 9 });
    for (const [ingressKbps, egressKbps] of [[5000, 8000], [6000, 1000], [100, 20_000]] as const) {
      await dp.setPort(port, { tag: 9, ingressKbps, egressKbps });
      expect(await dp.getPort(port)).toStrictEqual({ tag: 9, ingressKbps, egressKbps });
      expect(qosRowsOf(port)).toBe(1);
    }
    expect(sh('ovs-vsctl', 'get', 'Interface', port, 'ingress_policing_burst').trim()).toBe('30');
    expect(sh('ovs-vsctl', 'get', 'QoS', sh('ovs-vsctl', 'get', 'Port', port, 'qos').trim(), 'other_config').trim()).toBe('{cbs="750000", cir="2500000"}');

    // A new instance (no QoS rows known yet) still replaces the old row.
    await fresh().setPort(port, { tag: 9, egressKbps: 3000 });
    expect(qosRowsOf(port)).toBe(1);
    expect(await dp.getPort(port)).toStrictEqual({ tag: 9, egressKbps: 3000 });

    await dp.setPort(port, { tag: 9 });
    expect(await dp.getPort(port)).toStrictEqual({ tag: 9 });
    expect(qosRowsOf(port)).toBe(0);
    expect(sh('ovs-vsctl', 'get', 'Interface', port, 'ingress_policing_rate').trim()).toBe('0');

    await dp.setPort(port, {});
    expect(await dp.getPort(port)).toStrictEqual({});
    await dp.setPort(port, { tag: 9 });

    expect(await dp.getPort('wxnoport')).toBeUndefined();
    await expect(dp.setPort('wxnoport', { tag: 3 })).rejects.toThrow(/port wxnoport is not on OVS bridge/);
  });

  it('a QoS set by hand reads as an unknown rate and is replaced, not destroyed', async () => {
    const port = tb.portA;
    const foreign = sh('ovs-vsctl', '--', 'set', 'Port', port, 'qos=@q', '--', '--id=@q', 'create', 'QoS', 'type=egress-policer', 'other-config:cir=1000', 'other-config:cbs=1000').trim();
    try {
      expect(await dp.getPort(port)).toStrictEqual({ tag: 7, egressKbps: 0 });
      await dp.setPort(port, { tag: 7, egressKbps: 1000 });
      expect(await dp.getPort(port)).toStrictEqual({ tag: 7, egressKbps: 1000 });
      expect(sh('ovs-vsctl', 'get', 'QoS', foreign, 'type').trim()).toBe('egress-policer');
    } finally {
      await dp.setPort(port, { tag: 7 });
      sh('ovs-vsctl', '--if-exists', 'destroy', 'QoS', foreign);
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
    ];
    for (const p of bad) await expect(dp.applyClientPath(p), JSON.stringify(p)).rejects.toThrow(/invalid/);
    await expect(dp.removeClientPath('zz')).rejects.toThrow(/invalid MAC/);
    await expect(dp.getPort('a b')).rejects.toThrow(/invalid port name/);
    await expect(dp.setPort('a;b', {})).rejects.toThrow(/invalid port name/);
    await expect(dp.setPort(tb.portA, { tag: 0 })).rejects.toThrow(/invalid VLAN/);
    await expect(dp.setPort(tb.portA, { ingressKbps: 0 })).rejects.toThrow(/invalid ingressKbps/);
    expect(() => new OvsDatapath({ bridge: 'br;rm', uplink: 'up', logger: silentLogger })).toThrow(/invalid bridge name/);
    expect(dp.spawns).toBe(before);
  });
});
