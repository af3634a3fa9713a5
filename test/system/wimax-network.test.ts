// The whole controller with real Open vSwitch: VMs (on libvirt's test driver, their switch ports
// played by veths into namespaces, under the names the controller gives VM ports) and stations
// in namespaces behind a base-station uplink. Real pings and real iperf3 throughput.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vmPortName } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { ovsTestsEnabled, OvsTestbed, sh } from '../helpers/ovs-testbed.js';

const enabled = ovsTestsEnabled();
const run = Math.random().toString(36).slice(2, 6);
const A = `slice-${run}-a`;
const B = `slice-${run}-b`;

function clientYaml(name: string, mac: string, vmName: string, shaping?: string): string {
  return `apiVersion: wimaxvm.io/v1alpha1\nkind: WimaxClient\nmetadata:\n  name: ${name}\nspec:\n  mac: "${mac}"\n  vmName: ${vmName}\n${shaping ? `  shaping: ${shaping}\n` : ''}`;
}

function cookieOf(mac: string): string {
  return `0x5758${mac.replace(/:/g, '')}`;
}

describe.runIf(enabled)('WiMAX slices on Open vSwitch, end to end', () => {
  let bed: OvsTestbed;
  let h: Harness;
  const IPERF = 5300 + Math.floor(Math.random() * 500);

  beforeAll(async () => {
    bed = OvsTestbed.create({ vmPorts: [vmPortName(A), vmPortName(B)], vmTags: null });
    bed.enableTcp();
    await bed.startIperfProcess(bed.vmA.ns, IPERF);
    await bed.startIperfProcess(bed.vmB.ns, IPERF);
    h = await Harness.create({ flags: { nic: `ovs:${bed.bridge}`, uplink: bed.uplink, poll: '200ms' } });
    h.write('slices.yaml', vmYaml({ name: A }) + '---\n' + vmYaml({ name: B }));
    h.write('st1.yaml', clientYaml('st1', bed.st1.mac, A));
    h.write('st2.yaml', clientYaml('st2', bed.st2.mac, B));
    await h.start();
  }, 120_000);

  afterAll(async () => {
    await h?.dispose();
    bed?.dispose();
  });

  const clientStatus = (name: string) => h.running!.statuses.get(`WimaxClient/default/${name}`)?.status;
  const bound = (name: string, vm: string) => eventually(() => {
    const s = clientStatus(name);
    return s?.printableStatus === 'Bound' && s.vmName === vm ? s : undefined;
  }, `${name} bound to ${vm} (is ${JSON.stringify(clientStatus(name)?.conditions?.[0])})`);

  it('gives each slice its own VLAN and tags its port', async () => {
    await bound('st1', A);
    await bound('st2', B);
    const va = h.status(A)!.allocations.vlan!;
    const vb = h.status(B)!.allocations.vlan!;
    expect(va).not.toBe(vb);
    expect(sh('ovs-vsctl', 'get', 'port', vmPortName(A), 'tag').trim()).toBe(String(va));
    expect(sh('ovs-vsctl', 'get', 'port', vmPortName(B), 'tag').trim()).toBe(String(vb));
  });

  it('a station reaches only its slice; two stations on two slices are isolated', async () => {
    expect(bed.ping(bed.st1.ns, bed.vmA.ip)).toBe(true);
    expect(bed.ping(bed.st1.ns, bed.vmB.ip, 1)).toBe(false);
    expect(bed.ping(bed.st2.ns, bed.vmB.ip)).toBe(true);
    expect(bed.ping(bed.st2.ns, bed.vmA.ip, 1)).toBe(false);
  });

  it('rebinding moves the station to the other slice and disturbs no other station', async () => {
    const st2Flows = bed.flows(cookieOf(bed.st2.mac));
    h.write('st1.yaml', clientYaml('st1', bed.st1.mac, B));
    await bound('st1', B);
    expect(bed.ping(bed.st1.ns, bed.vmB.ip)).toBe(true);
    expect(bed.ping(bed.st1.ns, bed.vmA.ip, 1)).toBe(false);
    expect(bed.flows(cookieOf(bed.st2.mac))).toEqual(st2Flows);
    h.write('st1.yaml', clientYaml('st1', bed.st1.mac, A));
    await bound('st1', A);
    expect(bed.ping(bed.st1.ns, bed.vmA.ip)).toBe(true);
  });

  it('station shaping: iperf3 within ±20% of the rate both ways; unshaped is clearly faster', async () => {
    const unshaped = bed.iperfKbps(bed.st1.ns, bed.vmA.ip, IPERF);
    h.write('st1.yaml', clientYaml('st1', bed.st1.mac, A, '{ downlink: 4Mbit, uplink: 2Mbit }'));
    await eventually(() => clientStatus('st1')?.rates?.uplinkKbps === 2000, 'st1 rates applied');
    const up = bed.iperfKbps(bed.st1.ns, bed.vmA.ip, IPERF);
    const down = bed.iperfKbps(bed.st1.ns, bed.vmA.ip, IPERF, true);
    expect(up).toBeGreaterThan(2000 * 0.8);
    expect(up).toBeLessThan(2000 * 1.2);
    expect(down).toBeGreaterThan(4000 * 0.8);
    expect(down).toBeLessThan(4000 * 1.2);
    expect(unshaped).toBeGreaterThan(4000 * 5);
  });

  it('ShapingPolicy enabled: false lifts the rates; true puts them back', async () => {
    h.write('policy.yaml', 'apiVersion: wimaxvm.io/v1alpha1\nkind: ShapingPolicy\nmetadata:\n  name: default\nspec:\n  enabled: false\n');
    await eventually(() => clientStatus('st1')?.printableStatus === 'Bound' && clientStatus('st1')?.rates === undefined, 'rates lifted');
    expect(bed.iperfKbps(bed.st1.ns, bed.vmA.ip, IPERF)).toBeGreaterThan(2000 * 5);
    h.write('policy.yaml', 'apiVersion: wimaxvm.io/v1alpha1\nkind: ShapingPolicy\nmetadata:\n  name: default\nspec:\n  enabled: true\n');
    await eventually(() => clientStatus('st1')?.rates?.uplinkKbps === 2000, 'rates back');
    expect(bed.iperfKbps(bed.st1.ns, bed.vmA.ip, IPERF)).toBeLessThan(2000 * 1.2);
  });

  it('slice shaping on the VM port: the slice downlink follows the rate', async () => {
    h.write('slices.yaml', vmYaml({ name: A }) + '---\n' + vmYaml({ name: B, extra: '  network:\n    shaping: { downlink: 3Mbit }' }));
    await eventually(() => h.status(B)?.shaping?.downlinkKbps === 3000, `slice rate on B (status ${JSON.stringify(h.status(B))}, logs ${h.logs.filter((l) => /warn|error/.test(l)).slice(-3)})`);
    const down = bed.iperfKbps(bed.st2.ns, bed.vmB.ip, IPERF, true);
    expect(down).toBeGreaterThan(3000 * 0.8);
    expect(down).toBeLessThan(3000 * 1.2);
  });

  it('a flow deleted by hand is repaired on resync', async () => {
    sh('ovs-ofctl', '-O', 'OpenFlow13', 'del-flows', bed.bridge, `cookie=${cookieOf(bed.st2.mac)}/-1`);
    expect(bed.ping(bed.st2.ns, bed.vmB.ip, 1)).toBe(false);
    h.running!.resync();
    await eventually(() => bed.flows(cookieOf(bed.st2.mac)).length === 2, 'st2 flows back');
    expect(bed.ping(bed.st2.ns, bed.vmB.ip)).toBe(true);
  });

  it('deleting a client removes its path', async () => {
    h.remove('st2.yaml');
    await eventually(() => bed.flows(cookieOf(bed.st2.mac)).length === 0, 'st2 flows gone');
    expect(bed.ping(bed.st2.ns, bed.vmB.ip, 1)).toBe(false);
  });

  it('a controller restarted mid-way leaves no stale or duplicate flows and reuses no VLAN', async () => {
    const vlans = [h.status(A)!.allocations.vlan, h.status(B)!.allocations.vlan];
    h.write('st2.yaml', clientYaml('st2', bed.st2.mac, B));
    await bound('st2', B);
    await h.stop();
    // While it is down: one station goes, one VM more is declared.
    h.remove('st1.yaml');
    h.write('extra.yaml', vmYaml({ name: `${A}-x` }));
    await h.start();
    await eventually(() => bed.flows(cookieOf(bed.st1.mac)).length === 0, 'st1 path removed at start');
    await bound('st2', B);
    expect(bed.flows(cookieOf(bed.st2.mac))).toHaveLength(2);
    expect([h.status(A)!.allocations.vlan, h.status(B)!.allocations.vlan]).toEqual(vlans);
    const extra = await eventually(() => h.status(`${A}-x`)?.allocations.vlan, 'the new VM has a VLAN');
    expect(vlans).not.toContain(extra);
    const ours = bed.ofctl('dump-flows', bed.bridge, 'cookie=0x5758000000000000/0xffff000000000000').split('\n').filter((l) => l.includes('cookie='));
    const cookies = ours.map((l) => /cookie=(0x[0-9a-f]+)/.exec(l)![1]!);
    // The three tables' base flows, st2's two flows, slice B's downlink meter flow: nothing else.
    expect(cookies.filter((c) => c === '0x5758000000000000')).toHaveLength(3);
    expect(cookies.filter((c) => c === cookieOf(bed.st2.mac))).toHaveLength(2);
    expect(cookies.filter((c) => c.startsWith('0x575801'))).toHaveLength(1);
    expect(ours).toHaveLength(6);
    expect(bed.ping(bed.st2.ns, bed.vmB.ip)).toBe(true);
  });
});
