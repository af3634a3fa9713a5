// Traffic accounting against real traffic: the whole controller on a real OVS bridge (VMs on
// libvirt's test driver, their switch ports played by veths into namespaces), stations in
// namespaces behind the base-station uplink, iperf3 between them. The controller's per-station
// rates are compared with what iperf3 measured; meters' drops are seen to rise.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vmPortName } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import type { StationTraffic, TrafficSnapshot } from '../../src/traffic/traffic-feed.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { ovsTestsEnabled, OvsTestbed } from '../helpers/ovs-testbed.js';

const enabled = ovsTestsEnabled();
const run = Math.random().toString(36).slice(2, 6);
const A = `trf-${run}-a`;
const B = `trf-${run}-b`;
const INTERVAL_MS = 1000;

function clientYaml(name: string, mac: string, vmName: string, shaping?: string): string {
  return `apiVersion: wimaxvm.io/v1alpha1\nkind: WimaxClient\nmetadata:\n  name: ${name}\nspec:\n  mac: "${mac}"\n  vmName: ${vmName}\n${shaping ? `  shaping: ${shaping}\n` : ''}`;
}

/** iperf3 (UDP at a fixed rate, so the rate is steady) without blocking the controller's event loop. */
function iperfUdp(ns: string, ip: string, port: number, mbit: number, seconds: number, reverse = false): Promise<{ receivedKbps: number; startMs: number; endMs: number }> {
  const startMs = Date.now();
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, 'iperf3', '-c', ip, '-p', String(port), '-u', '-b', `${mbit}M`, '-l', '1400', '-t', String(seconds), '-J', ...(reverse ? ['-R'] : [])],
      { encoding: 'utf8', timeout: 30_000 }, (_err, stdout) => {
        const report = JSON.parse(stdout || '{}');
        const bps = report.end?.sum_received?.bits_per_second;
        if (typeof bps !== 'number') return reject(new Error(`iperf3 ${ns} → ${ip}: ${report.error ?? stdout.slice(0, 300)}`));
        resolve({ receivedKbps: bps / 1000, startMs, endMs: Date.now() });
      });
  });
}

describe.runIf(enabled)('traffic accounting with real traffic through OVS', () => {
  let bed: OvsTestbed;
  let h: Harness;
  const IPERF = 5800 + Math.floor(Math.random() * 400);
  const snapshots: TrafficSnapshot[] = [];

  beforeAll(async () => {
    bed = OvsTestbed.create({ vmPorts: [vmPortName(A), vmPortName(B)], vmTags: null });
    bed.enableTcp(); // iperf3's control connection is TCP
    await bed.startIperfProcess(bed.vmA.ns, IPERF);
    await bed.startIperfProcess(bed.vmB.ns, IPERF);
    h = await Harness.create({ flags: { nic: `ovs:${bed.bridge}`, uplink: bed.uplink, poll: '200ms', 'traffic-interval': `${INTERVAL_MS}ms`, 'traffic-status-interval': '2s' } });
    h.write('slices.yaml', vmYaml({ name: A }) + '---\n' + vmYaml({ name: B }));
    h.write('st1.yaml', clientYaml('st1', bed.st1.mac, A));
    h.write('st2.yaml', clientYaml('st2', bed.st2.mac, B, '{ uplink: 2Mbit }'));
    await h.start();
    h.running!.traffic!.subscribe((s) => snapshots.push(s));
    await eventually(() => ['st1', 'st2'].every((n) => h.running!.statuses.get(`WimaxClient/default/${n}`)?.status?.printableStatus === 'Bound'), 'stations bound');
  }, 120_000);

  afterAll(async () => {
    await h?.dispose();
    bed?.dispose();
  });

  const station = (s: TrafficSnapshot, name: string): StationTraffic | undefined => s.stations.find((x) => x.name === name);

  /** The rates of the snapshots whose whole interval lies inside [from, to], with their intervals' lengths. */
  async function ratesWithin(from: number, to: number, name: string, pick: (s: StationTraffic) => number): Promise<{ bps: number; ms: number }[]> {
    await eventually(() => snapshots.some((s) => Date.parse(s.at) > to), 'a snapshot after the run');
    const rates: { bps: number; ms: number }[] = [];
    for (let i = 1; i < snapshots.length; i++) {
      const [begin, end] = [Date.parse(snapshots[i - 1]!.at), Date.parse(snapshots[i]!.at)];
      const s = station(snapshots[i]!, name);
      if (begin >= from && end <= to && s) rates.push({ bps: pick(s), ms: end - begin });
    }
    return rates;
  }

  it.each([['uplink', false], ['downlink', true]] as const)('the %s rate of a station is within 10%% of what iperf3 measured', async (direction, reverse) => {
    const iperf = await iperfUdp(bed.st1.ns, bed.vmA.ip, IPERF, 20, 8, reverse);
    // iperf3 sets up its control connection first (a reverse test takes longer): not measured traffic.
    const rates = await ratesWithin(iperf.startMs + 1200, iperf.endMs - 200, 'st1', (s) => (direction === 'uplink' ? s.uplinkBps : s.downlinkBps));
    expect(rates.length).toBeGreaterThanOrEqual(2);
    // Each interval weighs as long as it lasted: the mean rate of the whole stretch.
    const reportedKbps = rates.reduce((sum, r) => sum + r.bps * r.ms, 0) / rates.reduce((sum, r) => sum + r.ms, 0) * 8 / 1000;
    console.log(`traffic accuracy ${direction}: reported ${reportedKbps.toFixed(0)} kbit/s (intervals ${rates.map((r) => Math.round(r.bps * 8 / 1000)).join(', ')}), iperf3 ${iperf.receivedKbps.toFixed(0)} kbit/s, ratio ${(reportedKbps / iperf.receivedKbps).toFixed(3)}`);
    expect(reportedKbps).toBeGreaterThan(iperf.receivedKbps * 0.9);
    expect(reportedKbps).toBeLessThan(iperf.receivedKbps * 1.1);
  }, 60_000);

  it('a station sending over its rate: its meter\'s drop counter rises, in the feed and in /metrics', async () => {
    const before = station(h.running!.traffic!.latest()!, 'st2')!.droppedPackets;
    const iperf = await iperfUdp(bed.st2.ns, bed.vmB.ip, IPERF, 10, 2);
    expect(iperf.receivedKbps).toBeLessThan(2000 * 1.2); // the meter did limit it (10 Mbit/s offered)
    const after = await eventually(() => {
      const s = snapshots.at(-1)!;
      return Date.parse(s.at) > iperf.endMs ? station(s, 'st2') : undefined;
    }, 'a snapshot after the flood');
    console.log(`meter drops of st2: ${before} → ${after.droppedPackets}`);
    expect(after.droppedPackets).toBeGreaterThan(before + 100);
    expect(after).toMatchObject({ namespace: 'default', vm: B, vlan: h.status(B)!.allocations.vlan });
    const text = await h.running!.metrics.render();
    const drops = new RegExp(`^wimaxvm_station_meter_dropped_packets_total\\{namespace="default",name="st2",vm="${B}",vlan="\\d+"\\} (\\d+)$`, 'm').exec(text);
    expect(Number(drops?.[1])).toBeGreaterThan(before + 100);
  }, 60_000);
});
