// The traffic accounting's pure parts: dump-flows and meter-stats text captured from a real
// bridge (test/unit/fixtures/ovs-stats, made by OvsDatapath with two stations and two slices and a
// UDP flood over station 1's uplink rate), and rates from successive samples.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { growth, TrafficAccountant, type Naming, type Sample } from '../../src/traffic/accounting.js';
import { parseFlowCounters, parseMeterCounters, type FlowCounters } from '../../src/traffic/ovs-stats.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures/ovs-stats', name), 'utf8');
const ST1 = '00:11:22:33:44:55';
const ST2 = '00:11:22:33:44:66';

describe('parseFlowCounters on a real dump', () => {
  it.each(['dump-flows.txt', 'dump-flows-names.txt'])('%s: each station flow and slice flow with its direction, counters and meter', (file) => {
    const flows = parseFlowCounters(fixture(file));
    const find = (owner: string, direction: string) => flows.filter((f) => JSON.stringify(f.owner).includes(owner) && f.direction === direction);
    expect(flows).toHaveLength(7); // 4 station flows, 3 slice flows (VLAN 9 has no uplink rate); our base flows and the bridge's own NORMAL flow are not counted
    expect(find(ST1, 'uplink')).toEqual([{ owner: { mac: ST1 }, direction: 'uplink', packets: 351, bytes: 503284, durationMs: expect.any(Number), meter: 1, vlan: 7 }]);
    expect(find(ST1, 'downlink')).toEqual([{ owner: { mac: ST1 }, direction: 'downlink', packets: 10, bytes: 660, durationMs: expect.any(Number), meter: 4 }]);
    expect(find(ST2, 'uplink')[0]).toMatchObject({ packets: 6, bytes: 476, vlan: 9 });
    expect(find(ST2, 'uplink')[0]).not.toHaveProperty('meter');
    expect(flows.filter((f) => 'vlan' in f.owner).map((f) => [f.owner, f.direction, f.meter])).toEqual(expect.arrayContaining([
      [{ vlan: 7 }, 'uplink', 2], [{ vlan: 7 }, 'downlink', 5], [{ vlan: 9 }, 'downlink', 3]]));
    expect(flows.every((f) => f.durationMs > 1000 && f.durationMs < 2000)).toBe(true);
  });

  it.each([
    ['others\' cookies', ' cookie=0x1234, duration=1.0s, table=0, n_packets=5, n_bytes=500, priority=100,dl_src=00:11:22:33:44:55 actions=NORMAL'],
    ['our base flows', ' cookie=0x5758000000000000, duration=1.0s, table=0, n_packets=5, n_bytes=500, priority=10,in_port=3 actions=drop'],
    ['a station cookie outside table 0', ' cookie=0x5758001122334455, duration=1.0s, table=3, n_packets=5, n_bytes=500, priority=100,dl_src=00:11:22:33:44:55 actions=NORMAL'],
    ['a header line', 'OFPST_FLOW reply (OF1.3) (xid=0x2):'],
    ['garbage', 'cookie=zzz actions='],
  ])('leaves out %s', (_what, line) => {
    expect(parseFlowCounters(line)).toEqual([]);
  });
});

describe('parseMeterCounters on real meter-stats', () => {
  it('reads each meter\'s drops and age', () => {
    const meters = parseMeterCounters(fixture('meter-stats.txt'));
    expect([...meters.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(meters.get(1)).toEqual({ droppedPackets: 215, droppedBytes: 320350, durationMs: 1766 });
    expect(meters.get(2)).toEqual({ droppedPackets: 0, droppedBytes: 0, durationMs: 1736 });
  });

  it('adds the bands of a meter, across replies', () => {
    const text = 'OFPST_METER reply (OF1.3) (xid=0x2):\nmeter:7 flow_count:1 packet_in_count:9 byte_in_count:900 duration:3.5s bands:\n0: packet_count:2 byte_count:200\n1: packet_count:1 byte_count:100\nOFPST_METER reply (OF1.3) (xid=0x3):\nmeter:8 flow_count:0 packet_in_count:0 byte_in_count:0 duration:0.001s bands:\n0: packet_count:0 byte_count:0\n';
    expect(parseMeterCounters(text)).toEqual(new Map([[7, { droppedPackets: 3, droppedBytes: 300, durationMs: 3500 }], [8, { droppedPackets: 0, droppedBytes: 0, durationMs: 1 }]]));
  });
});

describe('growth', () => {
  it.each([
    ['counts on', { packets: 10, bytes: 1000, startMs: 0 }, { packets: 15, bytes: 1600, startMs: 0 }, { packets: 5, bytes: 600 }],
    ['new: all of it', undefined, { packets: 15, bytes: 1600, startMs: 0 }, { packets: 15, bytes: 1600 }],
    ['backwards (re-added): what the new one counted', { packets: 10, bytes: 1000, startMs: 0 }, { packets: 3, bytes: 300, startMs: 9000 }, { packets: 3, bytes: 300 }],
    ['re-added and already past the old counts', { packets: 10, bytes: 1000, startMs: 0 }, { packets: 30, bytes: 3000, startMs: 9000 }, { packets: 30, bytes: 3000 }],
    ['start jitter under a second is the same flow', { packets: 10, bytes: 1000, startMs: 0 }, { packets: 12, bytes: 1200, startMs: 400 }, { packets: 2, bytes: 200 }],
    ['another meter id', { packets: 10, bytes: 1000, startMs: 0, id: 1 }, { packets: 12, bytes: 1200, startMs: 0, id: 2 }, { packets: 12, bytes: 1200 }],
  ])('%s', (_what, prev, now, want) => {
    expect(growth(prev, now)).toEqual(want);
  });
});

describe('TrafficAccountant', () => {
  const naming: Naming = {
    station: (mac) => (mac === ST1 ? { namespace: 'default', name: 'st1', vm: 'vm7' } : mac === ST2 ? { namespace: 'lab', name: 'st2', vm: 'vm9' } : undefined),
    slice: (vlan) => (vlan === 7 ? { namespace: 'default', vm: 'vm7' } : vlan === 9 ? { namespace: 'lab', vm: 'vm9' } : undefined),
  };
  const flow = (mac: string, direction: 'uplink' | 'downlink', bytes: number, durationMs: number, extra: Partial<FlowCounters> = {}): FlowCounters =>
    ({ owner: { mac }, direction, packets: Math.round(bytes / 1000), bytes, durationMs, ...extra });
  const sample = (atMs: number, flows: FlowCounters[], meters: [number, number][] = []): Sample =>
    ({ atMs, flows, meters: new Map(meters.map(([id, dropped]) => [id, { droppedPackets: dropped, droppedBytes: dropped * 1000, durationMs: atMs }])) });

  it('gives totals at once, rates from the second sample, and slices as the sum of their stations', () => {
    const a = new TrafficAccountant();
    const first = a.step(sample(100_000, [flow(ST1, 'uplink', 5_000, 100_000, { vlan: 7 }), flow(ST1, 'downlink', 1_000, 100_000), flow(ST2, 'uplink', 0, 100_000, { vlan: 7 })]), naming);
    expect(first.stations.find((s) => s.name === 'st1')).toMatchObject({ mac: ST1, vm: 'vm7', vlan: 7, uplinkBytes: 5_000, downlinkBytes: 1_000, uplinkBps: 0, downlinkBps: 0 });
    const second = a.step(sample(110_000, [flow(ST1, 'uplink', 105_000, 110_000, { vlan: 7 }), flow(ST1, 'downlink', 21_000, 110_000), flow(ST2, 'uplink', 50_000, 110_000, { vlan: 7 })]), naming);
    expect(second.stations.find((s) => s.name === 'st1')).toMatchObject({ uplinkBytes: 105_000, uplinkBps: 10_000, downlinkBytes: 21_000, downlinkBps: 2_000 });
    expect(second.slices).toEqual([{ namespace: 'default', vm: 'vm7', vlan: 7, uplinkBytes: 155_000, uplinkPackets: 155, downlinkBytes: 21_000, downlinkPackets: 21, uplinkBps: 15_000, downlinkBps: 2_000, droppedPackets: 0 }]);
  });

  it('a re-added flow restarts the rate and never makes totals or rates go down', () => {
    const a = new TrafficAccountant();
    a.step(sample(0, [flow(ST1, 'uplink', 900_000, 50_000, { vlan: 7 })]), naming);
    const after = a.step(sample(10_000, [flow(ST1, 'uplink', 20_000, 2_000, { vlan: 7 })]), naming); // re-added 2 s ago
    expect(after.stations[0]).toMatchObject({ uplinkBytes: 920_000, uplinkBps: 10_000 }); // 20 kB over the 2 s it has existed
    expect(after.slices[0]).toMatchObject({ uplinkBytes: 920_000 });
  });

  it('measures the interval by the switch\'s clock (flow durations), not by when our process got the answer', () => {
    const a = new TrafficAccountant();
    a.step(sample(0, [flow(ST1, 'uplink', 0, 50_000, { vlan: 7 })]), naming);
    // Our answer came 300 ms late; the switch read the counters 5 s apart.
    const s = a.step(sample(5_300, [flow(ST1, 'uplink', 50_000, 55_000, { vlan: 7 })]), naming);
    expect(s.stations[0]).toMatchObject({ uplinkBytes: 50_000, uplinkBps: 10_000 });
  });

  it('counts meter drops of a station (both meters) and of a slice (its own meters) apart', () => {
    const a = new TrafficAccountant();
    const flows = (n: number) => [flow(ST1, 'uplink', n, 60_000, { vlan: 7, meter: 1 }), flow(ST1, 'downlink', n, 60_000, { meter: 4 }),
      { owner: { vlan: 7 }, direction: 'uplink' as const, packets: n, bytes: n, durationMs: 60_000, meter: 2 }];
    a.step(sample(0, flows(0), [[1, 10], [4, 1], [2, 100]]), naming);
    const s = a.step(sample(5_000, flows(1000), [[1, 30], [4, 2], [2, 150]]), naming);
    expect(s.stations[0]!.droppedPackets).toBe(32);
    expect(s.slices[0]!.droppedPackets).toBe(150);
  });

  it('forgets what left the switch and reports no station nobody declares', () => {
    const a = new TrafficAccountant();
    a.step(sample(0, [flow(ST1, 'uplink', 5_000, 1_000, { vlan: 7 }), flow('00:aa:00:00:00:01', 'uplink', 7_000, 1_000, { vlan: 7 })]), naming);
    const s = a.step(sample(5_000, [flow('00:aa:00:00:00:01', 'uplink', 9_000, 6_000, { vlan: 7 })]), naming);
    expect(s.stations).toEqual([]);
    expect(s.slices[0]).toMatchObject({ uplinkBytes: 14_000 }); // the slice keeps what it carried
  });
});
