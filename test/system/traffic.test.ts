// Traffic accounting against real traffic: the whole controller on a real OVS bridge (VMs on
// libvirt's test driver, their switch ports played by veths into namespaces), stations in
// namespaces behind the base-station uplink, iperf3 between them. The controller's per-station
// rates are compared with what iperf3 measured; meters' drops are seen to rise.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateReader } from '../../src/adapters/store/state-reader.js';
import { openStateDatabaseReadOnly } from '../../src/adapters/store/state-database.js';
import { vmPortName } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import type { StationTraffic, TrafficSnapshot } from '../../src/traffic/traffic-feed.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { ovsTestsEnabled, OvsTestbed } from '../helpers/ovs-testbed.js';
import { spawnCli } from '../helpers/cli-child.js';

const enabled = ovsTestsEnabled();
const run = Math.random().toString(36).slice(2, 6);
const A = `trf-${run}-a`;
const B = `trf-${run}-b`;
const INTERVAL_MS = 1000;

function clientYaml(name: string, mac: string, vmName: string, shaping?: string): string {
  return `apiVersion: wimaxvm.io/v1alpha1\nkind: WimaxClient\nmetadata:\n  name: ${name}\nspec:\n  mac: "${mac}"\n  vmName: ${vmName}\n${shaping ? `  shaping: ${shaping}\n` : ''}`;
}

/**
 * iperf3 without blocking the controller's event loop. TCP is paced by the kernel (--fq-rate:
 * a steady rate, where iperf3's own -b pacing catches up in bursts after a slow start); UDP
 * (-b) floods a meter.
 */
function iperf(ns: string, ip: string, port: number, opts: { mbit: number; seconds: number; udp?: boolean }): Promise<{ receivedKbps: number; seconds: number; startMs: number; endMs: number; retransmits: number }> {
  const startMs = Date.now();
  const rate = opts.udp ? ['-u', '-b', `${opts.mbit}M`, '-l', '1400'] : ['--fq-rate', `${opts.mbit}M`];
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, 'iperf3', '-c', ip, '-p', String(port), ...rate, '-t', String(opts.seconds), '-J'],
      { encoding: 'utf8', timeout: 30_000 }, (_err, stdout) => {
        const report = JSON.parse(stdout || '{}');
        const bps = report.end?.sum_received?.bits_per_second;
        if (typeof bps !== 'number') return reject(new Error(`iperf3 ${ns} → ${ip}: ${report.error ?? stdout.slice(0, 300)}`));
        resolve({ receivedKbps: bps / 1000, seconds: report.end.sum_received.seconds, startMs, endMs: Date.now(), retransmits: report.end?.sum_sent?.retransmits ?? 0 });
      });
  });
}

describe.runIf(enabled)('traffic accounting with real traffic through OVS', () => {
  let bed: OvsTestbed;
  let h: Harness;
  const IPERF = 5800 + Math.floor(Math.random() * 400);
  const PORT = 21000 + Math.floor(Math.random() * 4000);
  const snapshots: TrafficSnapshot[] = [];

  beforeAll(async () => {
    bed = OvsTestbed.create({ vmPorts: [vmPortName(A), vmPortName(B)], vmTags: null });
    bed.enableTcp(); // iperf3's control connection is TCP
    await bed.startIperfProcess(bed.vmA.ns, IPERF);
    await bed.startIperfProcess(bed.vmB.ns, IPERF);
    await bed.startIperfProcess(bed.st1.ns, IPERF); // downlink: the VM's client sends (its pacing holds; a reverse test's would not)
    h = await Harness.create({ flags: { nic: `ovs:${bed.bridge}`, uplink: bed.uplink, poll: '200ms', 'traffic-interval': `${INTERVAL_MS}ms`, 'traffic-status-interval': '2s', listen: `127.0.0.1:${PORT}` } });
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

  /**
   * The station's reported rate averaged over an iperf3 run: each snapshot's rate times its
   * interval, from the last snapshot before the run to the first one after it that is idle
   * again (the switch credits counters every half second or so, so the run's edges land in
   * the neighbouring intervals), over the run's own length as iperf3 measured it.
   */
  async function meanRateOver(run: { startMs: number; endMs: number; seconds: number }, name: string, pick: (s: StationTraffic) => number): Promise<{ kbps: number; intervals: number[] }> {
    const idleAfter = await eventually(() => snapshots.find((s) => Date.parse(s.at) > run.endMs + INTERVAL_MS && pick(station(s, name)!) < 10_000), 'the station idle after the run');
    let first = 0;
    while (Date.parse(snapshots[first + 1]!.at) <= run.startMs) first++;
    const last = snapshots.indexOf(idleAfter);
    let bytes = 0;
    const intervals: number[] = [];
    for (let i = first + 1; i <= last; i++) {
      const rate = pick(station(snapshots[i]!, name)!);
      bytes += rate * (Date.parse(snapshots[i]!.at) - Date.parse(snapshots[i - 1]!.at)) / 1000;
      intervals.push(Math.round(rate * 8 / 1000));
    }
    return { kbps: bytes * 8 / 1000 / run.seconds, intervals };
  }

  it.each(['uplink', 'downlink'] as const)('the %s rate of a station is within 10%% of what iperf3 measured', async (direction) => {
    const run = direction === 'uplink'
      ? await iperf(bed.st1.ns, bed.vmA.ip, IPERF, { mbit: 20, seconds: 8 })
      : await iperf(bed.vmA.ns, bed.st1.ip, IPERF, { mbit: 20, seconds: 8 });
    const reported = await meanRateOver(run, 'st1', (s) => (direction === 'uplink' ? s.uplinkBps : s.downlinkBps));
    const ratio = reported.kbps / run.receivedKbps;
    console.log(`traffic accuracy ${direction}: reported ${reported.kbps.toFixed(0)} kbit/s (intervals ${reported.intervals.join(', ')}), iperf3 ${run.receivedKbps.toFixed(0)} kbit/s, ratio ${ratio.toFixed(3)}, TCP retransmits ${run.retransmits}`);
    // The switch counts whole frames (TCP/IP and Ethernet headers: +4.6 % on full-size segments), iperf3 the payload.
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.1);
  }, 60_000);

  it('a station sending over its rate: its meter\'s drop counter rises, in the feed and in /metrics', async () => {
    const before = station(h.running!.traffic!.latest()!, 'st2')!.droppedPackets;
    const flood = await iperf(bed.st2.ns, bed.vmB.ip, IPERF, { mbit: 10, seconds: 2, udp: true });
    expect(flood.receivedKbps).toBeLessThan(2000 * 1.2); // the meter did limit it (10 Mbit/s offered)
    const after = await eventually(() => {
      const s = snapshots.at(-1)!;
      return Date.parse(s.at) > flood.endMs ? station(s, 'st2') : undefined;
    }, 'a snapshot after the flood');
    console.log(`meter drops of st2: ${before} → ${after.droppedPackets}`);
    expect(after.droppedPackets).toBeGreaterThan(before + 100);
    expect(after).toMatchObject({ namespace: 'default', vm: B, vlan: h.status(B)!.allocations.vlan });
    const text = await h.running!.metrics.render();
    const drops = new RegExp(`^wimaxvm_station_meter_dropped_packets_total\\{namespace="default",name="st2",vm="${B}",vlan="\\d+"\\} (\\d+)$`, 'm').exec(text);
    expect(Number(drops?.[1])).toBeGreaterThan(before + 100);
  }, 60_000);

  /** The stored object as a fresh process (the CLI) reads it. */
  const fromDisk = (kind: string, name: string): any => {
    const reader = StateReader.open(h.stateDir);
    try {
      return reader?.objects(kind, 'default', name)[0];
    } finally {
      reader?.close();
    }
  };

  it('status.traffic of the station and its slice is stored, and a reconcile keeps it', async () => {
    const stored = await eventually(() => {
      const o = fromDisk('WimaxClient', 'st1');
      return o?.status?.traffic?.uplinkBytes > 10_000_000 ? o : undefined;
    }, 'st1 status.traffic with the iperf3 traffic');
    expect(stored.status).toMatchObject({ printableStatus: 'Bound', traffic: { uplinkBytes: expect.any(Number), downlinkBytes: expect.any(Number), sampledAt: expect.any(String) } });
    expect(fromDisk('VirtualMachine', A).status.traffic.uplinkBytes).toBeGreaterThanOrEqual(stored.status.traffic.uplinkBytes);
    expect(fromDisk('WimaxClient', 'st2').status.traffic.droppedPackets).toBeGreaterThan(100);
    // The reconcilers neither see the field nor drop it when they write.
    expect(h.running!.statuses.get('WimaxClient/default/st1')!.status.traffic).toBeUndefined();
    h.write('st1.yaml', clientYaml('st1', bed.st1.mac, A, '{ downlink: 50Mbit }'));
    await eventually(() => fromDisk('WimaxClient', 'st1')?.status?.rates?.downlinkKbps === 50_000, 'st1 re-bound with a rate');
    expect(fromDisk('WimaxClient', 'st1').status.traffic).toBeDefined();
  }, 60_000);

  it('an idle station costs no status writes', async () => {
    const writtenAt = (name: string) => {
      const db = openStateDatabaseReadOnly(h.stateDir)!;
      try {
        return (db.db.prepare('SELECT written_at FROM objects WHERE kind = ? AND name = ?').get('WimaxClient', name) as { written_at: number }).written_at;
      } finally {
        db.close();
      }
    };
    // Once its stored rates are at 0 (the flood is over), nothing changes for st2: 3 status rounds (6 samples) write nothing.
    await eventually(() => fromDisk('WimaxClient', 'st2')?.status?.traffic?.uplinkBps === 0, 'st2 idle in its status');
    const before = writtenAt('st2');
    const seen = snapshots.length;
    await eventually(() => snapshots.length >= seen + 7, '7 more samples');
    expect(writtenAt('st2')).toBe(before);
  }, 60_000);

  it('`get wxc -o wide` shows the stored traffic; `top --once` the live one, busiest first (the real CLI)', async () => {
    const env = { ...process.env, WIMAXVM_DIR: '' };
    const get = spawnCli(['get', 'wxc', '-o', 'wide', '--dir', h.dir, '--state-dir', h.stateDir], env);
    expect(await get.done).toBe(0);
    const [header, ...rows] = get.out().trim().split('\n');
    expect(header).toMatch(/^NAME\s+MAC\s+VM\s+VLAN\s+STATUS\s+AGE\s+PORT\s+REASON\s+UP\s+DOWN\s+UP-TOTAL\s+DOWN-TOTAL\s+DROPS$/);
    expect(rows.find((r) => r.startsWith('st2 '))).toMatch(/\s(\d+\.\d|\d+)[KMG]iB\s+\S+\s+([1-9]\d{2,})$/); // its drops

    // st1 sends while top looks: it is the first row.
    const sending = iperf(bed.st1.ns, bed.vmA.ip, IPERF, { mbit: 20, seconds: 4 });
    await eventually(() => (station(snapshots.at(-1)!, 'st1')?.uplinkBps ?? 0) > 1_000_000, 'st1 sending');
    const once = spawnCli(['top', '--once', '--dir', h.dir, '--state-dir', h.stateDir], env);
    expect(await once.done, once.err()).toBe(0);
    const lines = once.out().trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+VM\s+VLAN\s+UP\s+DOWN\s+UP-TOTAL\s+DOWN-TOTAL\s+DROPS$/);
    expect(lines[1]).toMatch(new RegExp(`^st1\\s+${A}\\s+\\d+\\s+\\d+(\\.\\d)?Mbit\\s`));
    expect(lines[2]).toMatch(/^st2\s/);
    const slices = spawnCli(['top', 'slices', '--once', '--server', `http://127.0.0.1:${PORT}`], env);
    expect(await slices.done, slices.err()).toBe(0);
    expect(slices.out().trim().split('\n')[1]).toMatch(new RegExp(`^${A}\\s`));
    await sending;
  }, 60_000);

  it('`top` refreshes until stopped', async () => {
    const live = spawnCli(['top', '--interval', '300ms', '--dir', h.dir, '--state-dir', h.stateDir], { ...process.env, WIMAXVM_DIR: '' });
    try {
      await eventually(() => (live.out().match(/^stations of http:\/\/127\.0\.0\.1:\d+ at /gm) ?? []).length >= 3 || live.exitCode !== null ? true : undefined, `3 refreshes (${live.err()})`);
      expect(live.exitCode).toBeNull();
    } finally {
      live.kill('SIGTERM');
      await live.done;
    }
  }, 30_000);

  it('/metrics has every series the Grafana dashboard queries, per station and slice', async () => {
    const text = await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text();
    const present = new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)![0]));
    const dashboard = JSON.parse(readFileSync('manifests/monitoring/grafana-dashboard.json', 'utf8'));
    const panels = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
    const exprs: string[] = [...panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr)), ...dashboard.templating.list.map((v: any) => v.definition).filter(Boolean)];
    const queried = new Set(exprs.flatMap((e) => e.match(/\bwimaxvm_[a-z0-9_]+\b/g) ?? []));
    expect(queried.size).toBeGreaterThan(15);
    expect([...queried].filter((name) => !present.has(name))).toEqual([]);
    expect(new Set(panels.map((p: any) => p.id)).size).toBe(panels.length);
    for (const p of panels.filter((x: any) => x.type !== 'row')) expect(p.targets.length, p.title).toBeGreaterThan(0);
    // Each station and slice has its labelled series; one that goes takes them with it.
    expect(text).toMatch(new RegExp(`^wimaxvm_station_bytes_total\\{namespace="default",name="st1",vm="${A}",vlan="\\d+",direction="uplink"\\} [1-9]`, 'm'));
    expect(text).toMatch(new RegExp(`^wimaxvm_slice_bytes_per_second\\{namespace="default",vm="${A}",vlan="\\d+",direction="downlink"\\} \\d`, 'm'));
    h.remove('st2.yaml');
    await eventually(async () => !(await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text()).includes('name="st2"') || undefined, 'st2 series gone');
  }, 60_000);
});
