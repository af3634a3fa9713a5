import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../src/core/work-queue.js';
import { Metrics, type Inventory } from '../../src/observability/metrics.js';
import type { ClientPath, Datapath, PortSettings, SlicePath } from '../../src/ports/datapath.js';
import type { DomainActivity, DomainSnapshot, Hypervisor } from '../../src/ports/hypervisor.js';
import type { DeletionPermit } from '../../src/core/deletion-gate.js';
import { FakeHypervisor } from '../fakes/fake-hypervisor.js';

// --- A minimal exposition-format parser: prom-client has none of its own. -----------------------

interface Sample { name: string; labels: Record<string, string>; value: number }

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"';
const SAMPLE_LINE = new RegExp(`^(${METRIC_NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? (\\S+)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`);
const HELP_LINE = new RegExp(`^# HELP (${METRIC_NAME}) .*$`);

/** Parses the text, failing on any line that is not valid exposition format. */
function parse(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = TYPE_LINE.exec(line);
    if (type) {
      expect(types.has(type[1]!), `second TYPE for ${type[1]}`).toBe(false);
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (HELP_LINE.test(line)) continue;
    const m = SAMPLE_LINE.exec(line);
    expect(m, `not exposition format: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    // prom-client writes NaN as "Nan"; Prometheus reads values with Go's ParseFloat, which takes any case.
    const text = m![3]!;
    const value = /^nan$/i.test(text) ? NaN : text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
    expect(Number.isNaN(value) && !/^nan$/i.test(text), `bad value: ${line}`).toBe(false);
    samples.push({ name: m![1]!, labels, value });
  }
  return { types, samples };
}

async function scrape(metrics: Metrics): Promise<Sample[]> {
  return parse(await metrics.render()).samples;
}

/** The one sample with this name and (at least) these labels; undefined when absent. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(hits.length, `${name} ${JSON.stringify(labels)} matched more than once`).toBeLessThanOrEqual(1);
  return hits[0]?.value;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- Hand-written port stubs. They use `this`, so a decorator that loses the binding fails. ------

// The port's other calls (events, metadata, figures...) are the fake's.
class StubHypervisor extends FakeHypervisor implements Hypervisor {
  override readonly uri = 'test:///stub';
  stubCalls: unknown[][] = [];
  private readonly stubDomains = new Map<string, DomainSnapshot>([
    ['vm-a', { name: 'vm-a', uuid: 'u-a', state: 'running', reason: 'booted', id: 3, persistentXml: '<domain/>' }],
  ]);
  override domainType(): 'test' { return 'test'; }
  override async getDomain(name: string, fresh?: boolean): Promise<DomainSnapshot | undefined> {
    this.stubCalls.push(['getDomain', name, fresh]);
    await sleep(20);
    return this.stubDomains.get(name);
  }
  override async listDomains(): Promise<DomainSnapshot[]> { return [...this.stubDomains.values()]; }
  override async activity(): Promise<DomainActivity> { return { inactive: [], activeIds: [3] }; }
  override async nameOfActiveDomain(id: number): Promise<string | undefined> { return id === 3 ? 'vm-a' : undefined; }
  override async define(xml: string): Promise<void> { this.stubCalls.push(['define', xml]); }
  override async start(name: string): Promise<void> { this.stubCalls.push(['start', name]); }
  override async shutdown(): Promise<void> {}
  override async destroy(name: string): Promise<void> { throw new Error(`no domain ${name}`); }
  override async undefine(_name: string, _permit: DeletionPermit): Promise<void> {}
  override async suspend(): Promise<void> {}
  override async resume(): Promise<void> {}
}

class StubDatapath implements Datapath {
  private readonly paths = new Map<string, ClientPath>();
  private readonly ports = new Map<string, PortSettings>([['vnet0', { tag: 10 }]]);
  async ensureBase(): Promise<void> {}
  async refresh(): Promise<void> { throw new Error('switch unreachable'); }
  clientPath(mac: string): ClientPath | undefined { return this.paths.get(mac); }
  clientMacs(): string[] { return [...this.paths.keys()]; }
  async applyClientPath(path: ClientPath): Promise<void> { this.paths.set(path.mac, path); }
  async removeClientPath(mac: string): Promise<void> { this.paths.delete(mac); }
  slicePath(): SlicePath | undefined { return undefined; }
  sliceVlans(): number[] { return []; }
  async applySlicePath(): Promise<void> {}
  async removeSlicePath(): Promise<void> {}
  async getPort(name: string): Promise<PortSettings | undefined> { return this.ports.get(name); }
  async setPort(name: string, settings: PortSettings): Promise<void> { this.ports.set(name, settings); }
}

// --- Tests ---------------------------------------------------------------------------------------

describe('Metrics', () => {
  it('counts reconciles by kind and result, and retries on errors', async () => {
    const metrics = new Metrics();
    const vm = metrics.reconcileObserver('VirtualMachine');
    metrics.reconcileObserver('WimaxClient');
    vm('success', 0.002);
    vm('success', 0.3);
    vm('requeue', 0.01);
    vm('error', 1.5);
    vm('error', 0.0002);

    const s = await scrape(metrics);
    const total = (kind: string, result: string) => find(s, 'wimaxvm_reconcile_total', { kind, result });
    expect(total('VirtualMachine', 'success')).toBe(2);
    expect(total('VirtualMachine', 'requeue')).toBe(1);
    expect(total('VirtualMachine', 'error')).toBe(2);
    expect(find(s, 'wimaxvm_workqueue_retries_total', { kind: 'VirtualMachine' })).toBe(2);
    // Series exist at 0 before anything happened to the kind.
    expect(total('WimaxClient', 'success')).toBe(0);
    expect(total('WimaxClient', 'error')).toBe(0);
    expect(find(s, 'wimaxvm_workqueue_retries_total', { kind: 'WimaxClient' })).toBe(0);
    expect(find(s, 'wimaxvm_reconcile_duration_seconds_count', { kind: 'WimaxClient' })).toBe(0);

    expect(find(s, 'wimaxvm_reconcile_duration_seconds_count', { kind: 'VirtualMachine' })).toBe(5);
    expect(find(s, 'wimaxvm_reconcile_duration_seconds_sum', { kind: 'VirtualMachine' })).toBeCloseTo(1.8122, 6);
    const bucket = (le: string) => find(s, 'wimaxvm_reconcile_duration_seconds_bucket', { kind: 'VirtualMachine', le });
    expect(bucket('0.0001')).toBe(0);
    expect(bucket('0.00025')).toBe(1);
    expect(bucket('0.0025')).toBe(2);
    expect(bucket('0.01')).toBe(3);
    expect(bucket('0.5')).toBe(4);
    expect(bucket('1')).toBe(4);
    expect(bucket('2.5')).toBe(5);
    expect(bucket('+Inf')).toBe(5);
  });

  it('has buckets from 0.1 ms to 10 s on every duration histogram, cumulative', async () => {
    const metrics = new Metrics();
    metrics.reconcileObserver('VirtualMachine')('success', 0.05);
    await metrics.instrumentHypervisor(new StubHypervisor()).listDomains();
    await metrics.instrumentDatapath(new StubDatapath()).ensureBase();
    const { types, samples } = parse(await metrics.render());
    for (const name of ['wimaxvm_reconcile_duration_seconds', 'wimaxvm_libvirt_call_duration_seconds', 'wimaxvm_ovs_call_duration_seconds']) {
      expect(types.get(name)).toBe('histogram');
      const buckets = samples.filter((s) => s.name === `${name}_bucket`);
      const les = buckets.map((b) => b.labels.le);
      expect(les[0]).toBe('0.0001');
      expect(les).toContain('10');
      expect(les.at(-1)).toBe('+Inf');
      const values = buckets.map((b) => b.value);
      expect(values).toEqual([...values].sort((a, b) => a - b));
      expect(values.at(-1)).toBe(1);
    }
  });

  it('times hypervisor calls and passes results, arguments and errors through unchanged', async () => {
    const metrics = new Metrics();
    const stub = new StubHypervisor();
    const h = metrics.instrumentHypervisor(stub);

    expect(h.uri).toBe('test:///stub');
    expect(h.domainType()).toBe('test');
    const domain = await h.getDomain('vm-a', true);
    expect(domain).toBe(await stub.getDomain('vm-a'));
    expect(await h.getDomain('nope')).toBeUndefined();
    expect(stub.stubCalls[0]).toEqual(['getDomain', 'vm-a', true]);
    expect(await h.nameOfActiveDomain(3)).toBe('vm-a');
    await h.define('<domain type="test"/>');
    expect(stub.stubCalls).toContainEqual(['define', '<domain type="test"/>']);

    const failure = await h.destroy('vm-b').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('no domain vm-b');

    const s = await scrape(metrics);
    const m = 'wimaxvm_libvirt_call_duration_seconds';
    expect(find(s, `${m}_count`, { operation: 'getDomain', result: 'ok' })).toBe(2);
    expect(find(s, `${m}_sum`, { operation: 'getDomain', result: 'ok' })).toBeGreaterThanOrEqual(0.035);
    expect(find(s, `${m}_count`, { operation: 'define', result: 'ok' })).toBe(1);
    expect(find(s, `${m}_count`, { operation: 'nameOfActiveDomain', result: 'ok' })).toBe(1);
    expect(find(s, `${m}_count`, { operation: 'destroy', result: 'error' })).toBe(1);
    expect(find(s, `${m}_count`, { operation: 'destroy', result: 'ok' })).toBeUndefined();
    // Synchronous calls are delegated, not timed.
    expect(s.filter((x) => x.name === `${m}_count` && x.labels.operation === 'domainType')).toEqual([]);
  });

  it('times datapath calls and delegates the synchronous reads untimed', async () => {
    const metrics = new Metrics();
    const d = metrics.instrumentDatapath(new StubDatapath());
    const path: ClientPath = { mac: '00:11:22:33:44:55', vlan: 10, vmPort: 'vnet0', uplinkKbps: 512 };

    await d.applyClientPath(path);
    expect(d.clientPath(path.mac)).toBe(path);
    expect(d.clientMacs()).toEqual([path.mac]);
    expect(await d.getPort('vnet0')).toEqual({ tag: 10 });
    await d.setPort('vnet0', { tag: 11 });
    expect(await d.getPort('vnet0')).toEqual({ tag: 11 });
    await expect(d.refresh()).rejects.toThrow('switch unreachable');

    const s = await scrape(metrics);
    const m = 'wimaxvm_ovs_call_duration_seconds';
    expect(find(s, `${m}_count`, { operation: 'applyClientPath', result: 'ok' })).toBe(1);
    expect(find(s, `${m}_count`, { operation: 'getPort', result: 'ok' })).toBe(2);
    expect(find(s, `${m}_count`, { operation: 'setPort', result: 'ok' })).toBe(1);
    expect(find(s, `${m}_count`, { operation: 'refresh', result: 'error' })).toBe(1);
    const operations = new Set(s.filter((x) => x.name === `${m}_count`).map((x) => x.labels.operation));
    expect(operations).toEqual(new Set(['applyClientPath', 'getPort', 'setPort', 'refresh']));
  });

  it('reads queue gauges at scrape time', async () => {
    const metrics = new Metrics();
    const queue = new WorkQueue();
    metrics.watchQueue('VirtualMachine', queue);
    metrics.watchQueue('WimaxClient', { length: 0, inFlight: 2, delayed: 7 });

    queue.add('a');
    queue.add('b');
    queue.addAfter('c', 60_000);
    let s = await scrape(metrics);
    expect(find(s, 'wimaxvm_workqueue_depth', { kind: 'VirtualMachine' })).toBe(2);
    expect(find(s, 'wimaxvm_workqueue_in_flight', { kind: 'VirtualMachine' })).toBe(0);
    expect(find(s, 'wimaxvm_workqueue_delayed', { kind: 'VirtualMachine' })).toBe(1);
    expect(find(s, 'wimaxvm_workqueue_in_flight', { kind: 'WimaxClient' })).toBe(2);
    expect(find(s, 'wimaxvm_workqueue_delayed', { kind: 'WimaxClient' })).toBe(7);

    await queue.get();
    s = await scrape(metrics);
    expect(find(s, 'wimaxvm_workqueue_depth', { kind: 'VirtualMachine' })).toBe(1);
    expect(find(s, 'wimaxvm_workqueue_in_flight', { kind: 'VirtualMachine' })).toBe(1);
    queue.shutDown();
  });

  it('reads inventory gauges at scrape time and drops statuses that vanished', async () => {
    const metrics = new Metrics();
    let s = await scrape(metrics);
    expect(s.filter((x) => x.name === 'wimaxvm_vms')).toEqual([]);
    expect(find(s, 'wimaxvm_vlans_in_use')).toBe(0);

    let inventory: Inventory = {
      vmsByStatus: { Running: 3, Provisioning: 1 },
      clientsByStatus: { Bound: 4, Pending: 2 },
      vlansInUse: 4,
      vlansFree: 4089,
    };
    metrics.watchInventory(() => inventory);
    s = await scrape(metrics);
    expect(find(s, 'wimaxvm_vms', { status: 'Running' })).toBe(3);
    expect(find(s, 'wimaxvm_vms', { status: 'Provisioning' })).toBe(1);
    expect(find(s, 'wimaxvm_wimax_clients', { status: 'Pending' })).toBe(2);
    expect(find(s, 'wimaxvm_vlans_in_use')).toBe(4);
    expect(find(s, 'wimaxvm_vlans_free')).toBe(4089);

    inventory = { vmsByStatus: { Running: 4 }, clientsByStatus: { Bound: 6 }, vlansInUse: 5, vlansFree: 4088 };
    s = await scrape(metrics);
    expect(find(s, 'wimaxvm_vms', { status: 'Running' })).toBe(4);
    expect(find(s, 'wimaxvm_vms', { status: 'Provisioning' })).toBeUndefined();
    expect(find(s, 'wimaxvm_wimax_clients', { status: 'Pending' })).toBeUndefined();
    expect(find(s, 'wimaxvm_wimax_clients', { status: 'Bound' })).toBe(6);
    expect(find(s, 'wimaxvm_vlans_in_use')).toBe(5);
  });

  it('keeps two instances apart', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.reconcileObserver('VirtualMachine')('error', 0.1);
    a.watchQueue('VirtualMachine', { length: 5, inFlight: 0, delayed: 0 });
    await a.instrumentHypervisor(new StubHypervisor()).listDomains();

    const sb = await scrape(b);
    expect(sb.filter((x) => x.name.startsWith('wimaxvm_reconcile') || x.name.startsWith('wimaxvm_workqueue'))).toEqual([]);
    expect(sb.filter((x) => x.name.startsWith('wimaxvm_libvirt'))).toEqual([]);
    const sa = await scrape(a);
    expect(find(sa, 'wimaxvm_reconcile_total', { kind: 'VirtualMachine', result: 'error' })).toBe(1);
    expect(find(sa, 'wimaxvm_workqueue_depth', { kind: 'VirtualMachine' })).toBe(5);
  });

  it('renders valid exposition format, default process metrics included', async () => {
    const metrics = new Metrics();
    metrics.reconcileObserver('VirtualMachine')('success', 0.01);
    metrics.watchQueue('VirtualMachine', { length: 1, inFlight: 0, delayed: 0 });
    metrics.watchInventory(() => ({ vmsByStatus: { 'Failed "quoted"': 1 }, clientsByStatus: {}, vlansInUse: 0, vlansFree: 10 }));
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);

    const { types, samples } = parse(await metrics.render());
    expect(types.get('wimaxvm_reconcile_total')).toBe('counter');
    expect(types.get('wimaxvm_workqueue_retries_total')).toBe('counter');
    expect(types.get('wimaxvm_workqueue_depth')).toBe('gauge');
    expect(types.get('wimaxvm_vms')).toBe('gauge');
    expect(types.get('wimaxvm_vlans_free')).toBe('gauge');
    expect(types.get('wimaxvm_process_cpu_user_seconds_total')).toBe('counter');
    expect(types.get('wimaxvm_nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(find(samples, 'wimaxvm_vms', { status: 'Failed \\"quoted\\"' })).toBe(1);
    // Every sample belongs to a declared family (histograms through their suffixes).
    for (const { name } of samples) {
      const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
      expect(types.has(family), `${name} has no TYPE`).toBe(true);
    }
  });
});
