// Dependencies restarting, Open vSwitch: the test's own ovsdb-server and ovs-vswitchd (its own
// database, sockets and pid files in a temporary directory; see PrivateOvs) are killed with
// SIGKILL and started again while the controller runs stations and slices on them. The
// controller notices at once, says so once, answers /readyz honestly, and restores every flow
// and meter the restart lost without waiting for a resync (set to 10 minutes here), applies
// what changed meanwhile, and restarts no VM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vmPortName } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { OvsTestbed } from '../helpers/ovs-testbed.js';
import { PrivateOvs, privateOvsEnabled } from '../helpers/private-ovs.js';

const enabled = privateOvsEnabled();
const run = Math.random().toString(36).slice(2, 6);
const A = `dep-${run}-a`;
const B = `dep-${run}-b`;
/** Stations with no namespace of their own: load, flows and meters to restore. */
const EXTRA = 16;
const extraMac = (i: number): string => `02:00:00:77:00:${i.toString(16).padStart(2, '0')}`;

function clientYaml(name: string, mac: string, vmName: string, shaping?: string): string {
  return `apiVersion: wimaxvm.io/v1alpha1\nkind: WimaxClient\nmetadata:\n  name: ${name}\nspec:\n  mac: "${mac}"\n  vmName: ${vmName}\n${shaping ? `  shaping: ${shaping}\n` : ''}`;
}

const cookieOf = (mac: string): string => `0x5758${mac.replace(/:/g, '')}`;
/**
 * What the declarations make on the switch: 3 base flows; 2 flows per station; slice A's two
 * flows (uplink and downlink rate); meters: A's 2, st1's 2, one per extra station.
 */
const DECLARED = { base: 3, stations: 2 * (EXTRA + 2), slices: 2, meters: 2 + 2 + EXTRA };

describe.runIf(enabled)('Open vSwitch daemons killed and restarted under the controller', () => {
  let ovs: PrivateOvs;
  let bed: OvsTestbed;
  let h: Harness;
  let readyz: () => Promise<{ status: number; body: string }>;

  beforeAll(async () => {
    ovs = new PrivateOvs();
    await ovs.startAll();
    ovs.use();
    bed = OvsTestbed.create({ vmPorts: [vmPortName(A), vmPortName(B)], vmTags: null, switchNetns: ovs.netns });
    await eventually(() => bed.ofctl('show', bed.bridge).includes(bed.uplink), 'the new bridge to answer OpenFlow');
    h = await Harness.create({ flags: { nic: `ovs:${bed.bridge}`, uplink: bed.uplink, poll: '200ms', listen: '127.0.0.1:0' } });
    h.write('vms.yaml', vmYaml({ name: A, extra: '  network:\n    shaping: { downlink: 30Mbit, uplink: 30Mbit }' }) + '---\n' + vmYaml({ name: B }));
    h.write('st1.yaml', clientYaml('st1', bed.st1.mac, A, '{ downlink: 8Mbit, uplink: 4Mbit }'));
    h.write('st2.yaml', clientYaml('st2', bed.st2.mac, B));
    h.write('extra.yaml', Array.from({ length: EXTRA }, (_, i) => clientYaml(`x${i}`, extraMac(i), i % 2 ? A : B, '{ uplink: 1Mbit }')).join('---\n'));
    const running = await h.start();
    const url = `http://127.0.0.1:${running.httpAddress!.port}/readyz`;
    readyz = async () => {
      const r = await fetch(url);
      return { status: r.status, body: await r.text() };
    };
  }, 120_000);

  afterAll(async () => {
    await h?.dispose();
    bed?.dispose();
    await ovs?.dispose();
  });

  const clientStatus = (name: string) => h.running!.statuses.get(`WimaxClient/default/${name}`)?.status;
  const allBound = () => eventually(() => ['st1', 'st2', ...Array.from({ length: EXTRA }, (_, i) => `x${i}`)]
    .every((n) => clientStatus(n)?.printableStatus === 'Bound'), 'every station bound', 60_000);
  /** What the switch holds of ours: base flows, station flows, slice flows, meters. */
  const programmed = () => {
    const ours = bed.ofctl('--no-stats', 'dump-flows', bed.bridge, 'cookie=0x5758000000000000/0xffff000000000000').split('\n').filter((l) => l.includes('cookie='));
    return {
      base: ours.filter((l) => l.includes('cookie=0x5758000000000000,')).length,
      stations: ours.filter((l) => /cookie=0x5758[0-9a-f]{2}/.test(l) && !l.includes('cookie=0x5758000000000000,') && !l.includes('cookie=0x575801')).length,
      slices: ours.filter((l) => l.includes('cookie=0x575801')).length,
      meters: bed.meters().size,
    };
  };
  const domainIds = () => [A, B].map((n) => h.status(n)?.domain?.id);
  /** Warnings logged since `from` (an index into h.logs). */
  const warningsSince = (from: number) => h.logs.slice(from).filter((l) => /"level":"(warn|error)"/.test(l));

  it('converges: every station bound, its flows and meters on the switch, /readyz ok', async () => {
    await allBound();
    expect(programmed()).toEqual(DECLARED);
    expect(bed.ping(bed.st1.ns, bed.vmA.ip)).toBe(true);
    expect(await readyz()).toEqual({ status: 200, body: 'ok\n' });
  });

  it('ovs-vswitchd killed: not ready, said once; a change meanwhile waits; back: everything restored at once, no VM restarted', async () => {
    const ids = domainIds();
    const logsFrom = h.logs.length;
    await ovs.kill('ovs-vswitchd');
    const down = await eventually(async () => { const r = await readyz(); return r.status === 503 ? r : undefined; }, '/readyz to say not ready');
    expect(down.body).toMatch(/^not ready: Open vSwitch: ovs-vswitchd is not reachable/);
    // A change while the switch is away: retried quietly, applied once it is back.
    const failed = h.running!.clients.stats.errors;
    h.write('st1.yaml', clientYaml('st1', bed.st1.mac, A, '{ downlink: 6Mbit, uplink: 3Mbit }'));
    // Retried meanwhile (and quietly: see the warnings below).
    await eventually(() => h.running!.clients.stats.errors >= failed + 2, 'st1\'s reconcile to fail twice while the switch is away');
    await ovs.start('ovs-vswitchd');
    await eventually(() => (clientStatus('st1')?.rates?.uplinkKbps === 3000 && JSON.stringify(programmed()) === JSON.stringify(DECLARED) ? true : undefined),
      'flows and meters restored', 30_000).catch((err) => { throw new Error(`${err}: have ${JSON.stringify(programmed())}, want ${JSON.stringify(DECLARED)}`); });
    expect(bed.ofctl('dump-meters', bed.bridge)).toMatch(/rate=3000/);
    expect(bed.ping(bed.st1.ns, bed.vmA.ip)).toBe(true);
    expect(bed.ping(bed.st2.ns, bed.vmB.ip)).toBe(true);
    await eventually(async () => (await readyz()).status === 200, '/readyz ok again');
    expect(domainIds()).toEqual(ids);
    const warnings = warningsSince(logsFrom);
    expect(warnings.filter((l) => l.includes('ovs-vswitchd is not reachable'))).toHaveLength(1);
    expect(warnings.filter((l) => !l.includes('ovs-vswitchd is not reachable'))).toEqual([]);
  });

  it('ovsdb-server killed: not ready, said once; a VLAN change meanwhile reaches the port once it is back', async () => {
    const ids = domainIds();
    const logsFrom = h.logs.length;
    await ovs.kill('ovsdb-server');
    const down = await eventually(async () => { const r = await readyz(); return r.status === 503 ? r : undefined; }, '/readyz to say not ready');
    expect(down.body).toMatch(/ovsdb-server is not reachable/);
    const failed = h.running!.controller.stats.errors;
    h.write('vms.yaml', vmYaml({ name: A, extra: '  network:\n    vlan: 3001\n    shaping: { downlink: 30Mbit, uplink: 30Mbit }' }) + '---\n' + vmYaml({ name: B }));
    await eventually(() => h.running!.controller.stats.errors >= failed + 2, 'A\'s reconcile to fail twice while OVSDB is away');
    await ovs.start('ovsdb-server');
    await eventually(() => ovs.vsctl('get', 'Port', vmPortName(A), 'tag').trim() === '3001', 'the new tag on A\'s port', 30_000);
    await eventually(() => clientStatus('st1')?.vlan === 3001 && bed.flows(cookieOf(bed.st1.mac)).some((l) => l.includes('set_field:7097->vlan_vid')), 'st1 moved to VLAN 3001', 30_000);
    expect(bed.ping(bed.st1.ns, bed.vmA.ip)).toBe(true);
    // The slice left its old VLAN: nothing of it stays on the switch.
    await eventually(() => JSON.stringify(programmed()) === JSON.stringify(DECLARED), 'only what is declared on the switch').catch((err) => {
      throw new Error(`${err}: have ${JSON.stringify(programmed())}: ${bed.ofctl('--no-stats', 'dump-flows', bed.bridge)} ${bed.ofctl('dump-meters', bed.bridge)}`);
    });
    await eventually(async () => (await readyz()).status === 200, '/readyz ok again');
    expect(domainIds()).toEqual(ids);
    const warnings = warningsSince(logsFrom);
    expect(warnings.filter((l) => l.includes('ovsdb-server is not reachable'))).toHaveLength(1);
    expect(warnings.filter((l) => !l.includes('ovsdb-server is not reachable'))).toEqual([]);
  });

  it('both killed at once and restarted: the same switch again, every path restored', async () => {
    const ids = domainIds();
    const logsFrom = h.logs.length;
    await Promise.all([ovs.kill('ovs-vswitchd'), ovs.kill('ovsdb-server')]);
    await eventually(async () => (await readyz()).status === 503, '/readyz to say not ready');
    await ovs.start('ovsdb-server');
    await ovs.start('ovs-vswitchd');
    await eventually(() => (JSON.stringify(programmed()) === JSON.stringify(DECLARED) ? true : undefined), 'flows and meters restored', 30_000).catch((err) => {
      throw new Error(`${err}: have ${JSON.stringify(programmed())}, want ${JSON.stringify(DECLARED)}; log: ${h.logs.slice(logsFrom).join('\n')}`);
    });
    expect(bed.ping(bed.st1.ns, bed.vmA.ip)).toBe(true);
    expect(bed.ping(bed.st2.ns, bed.vmB.ip)).toBe(true);
    await eventually(async () => (await readyz()).status === 200, '/readyz ok again');
    expect(domainIds()).toEqual(ids);
  });
});
