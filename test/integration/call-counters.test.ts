// The call counters in /metrics: libvirt calls by name and mutating-or-not, processes spawned and
// OVS transactions, measured on the real controller (test:///default) and a real Open vSwitch.
// The tallies are process-wide, so each check compares two readings taken around what it does.
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvsDatapath } from '../../src/adapters/ovs-datapath.js';
import { silentLogger } from '../../src/core/logger.js';
import { callCounts, countsSince, isMutatingLibvirtCall, mutatingLibvirtCalls, type CallCounts } from '../../src/observability/call-counters.js';
import { Metrics } from '../../src/observability/metrics.js';
import { eventually, Harness, manyVms } from '../helpers/harness.js';
import { parseSamples as samples, sum } from '../helpers/metrics-text.js';
import { ovsTestsEnabled } from '../helpers/ovs-testbed.js';

describe('libvirt call counters on the real controller', () => {
  let h: Harness;
  let url: string;
  let beforeStart: CallCounts;
  const N = 30;

  beforeAll(async () => {
    h = await Harness.create({ files: { 'a.yaml': manyVms(Array.from({ length: N }, (_, i) => ({ name: `cc-${i}` }))) } });
    h.flags = { listen: '127.0.0.1:0' };
    beforeStart = callCounts();
    url = `http://127.0.0.1:${(await h.start()).httpAddress!.port}/metrics`;
  });
  afterAll(async () => h.dispose());

  it('a converge shows every define and start, counted as mutating', async () => {
    await eventually(() => Array.from({ length: N }, (_, i) => h.status(`cc-${i}`)?.printableStatus).every((s) => s === 'Running'), 'all Running');
    await h.settle();
    const m = samples(await (await fetch(url)).text());
    // This process defined and started nothing else: the observer connection only reads.
    expect(m.get('wimaxvm_libvirt_calls_total{call="virDomainDefineXML",mutating="true"}')).toBe(N);
    expect(m.get('wimaxvm_libvirt_calls_total{call="virDomainCreateWithFlags",mutating="true"}')).toBe(N);
    expect(m.get('wimaxvm_libvirt_calls_total{call="virDomainGetXMLDesc",mutating="false"}')).toBeGreaterThan(0);
  });

  it('a converge of N new VMs makes 4 libvirt calls a VM: define, start, then state and live XML once (no lookup, no second XML)', async () => {
    await eventually(() => Array.from({ length: N }, (_, i) => h.status(`cc-${i}`)?.printableStatus).every((s) => s === 'Running'), 'all Running');
    await h.running!.idle();
    const calls = countsSince(beforeStart).libvirt;
    const n = (call: string) => calls.get(call) ?? 0;
    // Not per VM: the survey looks at the test driver's own domain once (state, two XMLs), and
    // the first keys a worker took before the start-up's enqueue-all are looked at once more
    // (state, two XMLs each, nothing done): at most one per worker.
    const workers = Number(h.flags.workers ?? 8); // the harness's default
    expect(n('virDomainDefineXML')).toBe(N);
    expect(n('virDomainCreateWithFlags')).toBe(N);
    expect(n('virDomainLookupByName')).toBe(0); // define gave the handle
    expect(n('virDomainGetState')).toBeLessThanOrEqual(N + 1 + workers);
    expect(n('virDomainGetXMLDesc')).toBeLessThanOrEqual(N + 2 * (1 + workers)); // one live XML a VM; no persistent XML after acting
    const total = [...calls.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(4 * N + 3 * (1 + workers) + 8);
  });

  it('the state database\'s commits and the writes they carried are counted, and /metrics says so', async () => {
    await eventually(() => Array.from({ length: N }, (_, i) => h.status(`cc-${i}`)?.printableStatus).every((s) => s === 'Running'), 'all Running');
    await h.running!.idle();
    const since = countsSince(beforeStart).state;
    // Each VM: its status and two events (Defined, Started) at least; how many share a commit
    // depends on the turns they land in (test/store/group-commit.test.ts pins that down).
    expect(since.get('writes')).toBeGreaterThanOrEqual(3 * N);
    expect(since.get('commits')).toBeGreaterThan(0);
    expect(since.get('commits')).toBeLessThanOrEqual(since.get('writes')!);
    const first = callCounts().state;
    const m = samples(await (await fetch(url)).text());
    const last = callCounts().state;
    for (const [metric, tally] of [['wimaxvm_state_commits_total', 'commits'], ['wimaxvm_state_writes_total', 'writes']] as const) {
      expect(m.get(metric)).toBeGreaterThanOrEqual(first.get(tally)!);
      expect(m.get(metric)).toBeLessThanOrEqual(last.get(tally)!);
    }
  });

  it('a resync with nothing to do reads libvirt but makes no mutating call', async () => {
    await h.settle();
    const before = samples(await (await fetch(url)).text());
    const counted = callCounts();
    h.running!.resync();
    await h.running!.idle();
    const during = countsSince(counted);
    const after = samples(await (await fetch(url)).text());
    expect(mutatingLibvirtCalls(during)).toBe(0);
    expect([...during.libvirt.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0); // it did look
    const mutating = (m: Map<string, number>) => sum(m, 'wimaxvm_libvirt_calls_total', 'mutating="true"');
    expect(mutating(after)).toBe(mutating(before));
    expect(sum(after, 'wimaxvm_libvirt_calls_total', 'mutating="false"')).toBeGreaterThan(sum(before, 'wimaxvm_libvirt_calls_total', 'mutating="false"'));
  });

  it('a resync reads every domain in one listing, and its reconciles make no libvirt read of their own', async () => {
    await h.settle();
    await h.running!.idle();
    const all = await h.observer.listDomains(); // (the observer's own calls come before the count)
    const counted = callCounts();
    await h.running!.resync();
    await h.running!.idle();
    const calls = countsSince(counted).libvirt;
    const n = (call: string) => calls.get(call) ?? 0;
    expect(n('virConnectGetAllDomainStats')).toBe(1); // every state in one call
    expect(n('virDomainGetState')).toBe(0);
    expect(n('virDomainLookupByName')).toBe(0);
    // The persistent XML of each domain and the live one of each running: once, in the listing.
    expect(n('virDomainGetXMLDesc')).toBe(all.reduce((sum, d) => sum + (d.liveXml === undefined ? 1 : 2), 0));
    expect(mutatingLibvirtCalls(countsSince(counted))).toBe(0);
  });

  it('a definition changed by hand with no event (virsh setmem --config) is put back by the next resync', async () => {
    const before = (await h.domain('cc-3'))!;
    const kib = before.parsed.facts.memoryKiB;
    await h.observer.setMemory(before.name, kib / 2, { config: true }); // libvirt sends no event for it
    expect((await h.domain('cc-3'))!.parsed.facts.memoryKiB).toBe(kib / 2);
    await h.running!.resync();
    await eventually(async () => (await h.domain('cc-3'))!.parsed.facts.memoryKiB === kib, 'the memory put back as declared');
  });

  it('a call nobody classified counts as mutating', () => {
    expect(isMutatingLibvirtCall('virDomainLookupByName')).toBe(false);
    expect(isMutatingLibvirtCall('virDomainGetState')).toBe(false);
    expect(isMutatingLibvirtCall('virDomainSetMetadata')).toBe(true);
    expect(isMutatingLibvirtCall('virDomainSomethingNew')).toBe(true);
  });
});

const ovs = ovsTestsEnabled();

describe.runIf(ovs)('process and OVS transaction counters on a real Open vSwitch', () => {
  const run = Math.random().toString(36).slice(2, 6).padEnd(4, '0');
  const bridge = `wxcc${run}`;
  const uplink = `wxcc${run}u`;
  const vmPort = `wxcc${run}v`;
  const vsctl = (...args: string[]) => execFileSync('ovs-vsctl', ['--timeout=20', ...args], { stdio: 'ignore' });

  beforeAll(() => {
    vsctl('add-br', bridge, '--', 'set', 'bridge', bridge, 'datapath_type=netdev',
      '--', 'add-port', bridge, uplink, '--', 'set', 'interface', uplink, 'type=internal',
      '--', 'add-port', bridge, vmPort, '--', 'set', 'interface', vmPort, 'type=internal');
  });
  afterAll(() => void spawnSync('ovs-vsctl', ['--timeout=20', '--if-exists', 'del-br', bridge]));

  it('50 stations bound at once are one flow-mod batch, not a process each, and /metrics says so', async () => {
    const dp = new OvsDatapath({ bridge, uplink, logger: silentLogger });
    await dp.ensureBase();
    await dp.refresh();
    const metrics = new Metrics();
    const before = samples(await metrics.render());
    const counted = callCounts();
    const macs = Array.from({ length: 50 }, (_, i) => `02:00:00:cc:00:${i.toString(16).padStart(2, '0')}`);
    await Promise.all(macs.map((mac) => dp.applyClientPath({ mac, vlan: 7, vmPort })));
    const during = countsSince(counted);
    const batches = during.ovs.get('ovs-ofctl add-flows') ?? 0;
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(during.processes.get('ovs-ofctl')).toBe(batches); // every ovs-ofctl process was a batch
    expect(batches).toBeLessThan(macs.length);
    const after = samples(await metrics.render());
    const key = 'wimaxvm_ovs_transactions_total{tool="ovs-ofctl",command="add-flows"}';
    expect(after.get(key)! - (before.get(key) ?? 0)).toBe(batches);
    const spawned = 'wimaxvm_processes_spawned_total{command="ovs-ofctl"}';
    expect(after.get(spawned)! - (before.get(spawned) ?? 0)).toBe(batches);
    // ensureBase's ovs-vsctl list-ports is one OVSDB transaction, counted as such.
    expect(after.get('wimaxvm_ovs_transactions_total{tool="ovs-vsctl",command="list-ports"}')).toBeGreaterThanOrEqual(1);
  });
});
