// Prometheus metrics for the controller. Each Metrics owns its own registry (never prom-client's
// global one), so several instances, in tests or in one process, never share counters.
// Values that are someone else's state (queue depths, inventory) are read at scrape time through
// collect() callbacks rather than pushed, so they can never go stale between scrapes.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ReconcileOutcome } from '../core/controller.js';
import { callCounts, isMutatingLibvirtCall, type CallCounts } from './call-counters.js';
import type { Datapath } from '../ports/datapath.js';
import type { Hypervisor } from '../ports/hypervisor.js';

/** What the queue gauges read; WorkQueue satisfies it. */
export interface QueueView {
  readonly length: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export interface Inventory {
  /** VirtualMachines by printableStatus. */
  vmsByStatus: Record<string, number>;
  /** WimaxClients by status. */
  clientsByStatus: Record<string, number>;
  vlansInUse: number;
  vlansFree: number;
  /** Deletions the deletion gate holds back for lack of evidence. */
  deletionsWithheld?: number;
  /** The source cannot vouch for any deletion now. */
  sourceBlocked?: boolean;
}

/** 0.1 ms (a cached getDomain) to 10 s (a guest shutdown or a slow define). */
const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const RESULTS: readonly ReconcileOutcome[] = ['success', 'requeue', 'error'];

type CallHistogram = Histogram<'operation' | 'result'>;

export class Metrics {
  readonly registry = new Registry();
  private readonly queues = new Map<string, QueueView>();
  private inventory: (() => Inventory) | undefined;

  private readonly reconciles: Counter<'kind' | 'result'>;
  private readonly reconcileDuration: Histogram<'kind'>;
  private readonly retries: Counter<'kind'>;
  private readonly libvirtCalls: CallHistogram;
  private readonly ovsCalls: CallHistogram;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'wimaxvm_' });

    this.reconciles = new Counter({
      name: 'wimaxvm_reconcile_total', help: 'Reconciles by kind and result (success, requeue, error).',
      labelNames: ['kind', 'result'], registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'wimaxvm_reconcile_duration_seconds', help: 'Time one reconcile took.',
      labelNames: ['kind'], buckets: DURATION_BUCKETS, registers,
    });
    this.retries = new Counter({
      name: 'wimaxvm_workqueue_retries_total', help: 'Keys put back on the queue after a failed reconcile.',
      labelNames: ['kind'], registers,
    });

    const queueGauge = (name: string, help: string, read: (q: QueueView) => number): void => {
      const queues = this.queues;
      new Gauge({
        name, help, labelNames: ['kind'], registers,
        collect() {
          this.reset();
          for (const [kind, queue] of queues) this.set({ kind }, read(queue));
        },
      });
    };
    queueGauge('wimaxvm_workqueue_depth', 'Keys waiting to be reconciled (not delayed, not in flight).', (q) => q.length);
    queueGauge('wimaxvm_workqueue_in_flight', 'Keys being reconciled now.', (q) => q.inFlight);
    queueGauge('wimaxvm_workqueue_delayed', 'Keys waiting out a requeue delay or a backoff.', (q) => q.delayed);

    this.libvirtCalls = new Histogram({
      name: 'wimaxvm_libvirt_call_duration_seconds', help: 'Time of calls to the hypervisor, by port operation and result (ok, error).',
      labelNames: ['operation', 'result'], buckets: DURATION_BUCKETS, registers,
    });
    this.ovsCalls = new Histogram({
      name: 'wimaxvm_ovs_call_duration_seconds', help: 'Time of calls to the Open vSwitch datapath, by port operation and result (ok, error).',
      labelNames: ['operation', 'result'], buckets: DURATION_BUCKETS, registers,
    });

    // Process-wide tallies (call-counters.ts), read at scrape time.
    const tally = <L extends string>(name: string, help: string, labelNames: readonly L[], read: (c: CallCounts) => [Partial<Record<L, string>>, number][]): void => {
      new Counter({
        name, help, labelNames, registers,
        collect() {
          this.reset();
          for (const [labels, n] of read(callCounts())) this.inc(labels, n);
        },
      });
    };
    tally('wimaxvm_libvirt_calls_total', 'libvirt calls made by this process, by C function name, and whether the call changes anything.', ['call', 'mutating'],
      (c) => [...c.libvirt].map(([call, n]) => [{ call, mutating: String(isMutatingLibvirtCall(call)) }, n]));
    tally('wimaxvm_processes_spawned_total', 'Processes this process started, by command.', ['command'],
      (c) => [...c.processes].map(([command, n]) => [{ command }, n]));
    tally('wimaxvm_ovs_transactions_total', 'Open vSwitch transactions: each ovs-vsctl run is one OVSDB transaction, each ovs-ofctl add-flows one batch of flow mods; by tool and subcommand.', ['tool', 'command'],
      (c) => [...c.ovs].map(([key, n]) => { const [tool, command] = key.split(' '); return [{ tool: tool!, command: command ?? '' }, n]; }));
    tally('wimaxvm_state_commits_total', 'Transactions committed to the state database (file mode); status writes of one event-loop turn share one.', [],
      (c) => [[{}, c.state.get('commits') ?? 0]]);
    tally('wimaxvm_state_writes_total', 'Status and event writes to the state database (file mode), whichever commit carried them.', [],
      (c) => [[{}, c.state.get('writes') ?? 0]]);

    // Each gauge asks the callback itself: the callback only counts, and a gauge that relied on
    // another's collect() having run first would depend on the registry's ordering.
    const byStatus = (name: string, help: string, pick: (i: Inventory) => Record<string, number>): void => {
      const inventory = (): Inventory | undefined => this.inventory?.();
      new Gauge({
        name, help, labelNames: ['status'], registers,
        collect() {
          // Reset first, so a status nothing has any more disappears instead of keeping its last count.
          this.reset();
          const snapshot = inventory();
          if (snapshot) for (const [status, n] of Object.entries(pick(snapshot))) this.set({ status }, n);
        },
      });
    };
    byStatus('wimaxvm_vms', 'VirtualMachines by printable status.', (i) => i.vmsByStatus);
    byStatus('wimaxvm_wimax_clients', 'WimaxClients by status.', (i) => i.clientsByStatus);
    const scalar = (name: string, help: string, pick: (i: Inventory) => number): void => {
      const inventory = (): Inventory | undefined => this.inventory?.();
      new Gauge({
        name, help, registers,
        collect() {
          const snapshot = inventory();
          this.set(snapshot ? pick(snapshot) : 0);
        },
      });
    };
    scalar('wimaxvm_vlans_in_use', 'Slice VLANs held by a VM.', (i) => i.vlansInUse);
    scalar('wimaxvm_vlans_free', 'Slice VLANs left in the configured range.', (i) => i.vlansFree);
    scalar('wimaxvm_deletions_withheld', 'VMs not deleted because their source gave no evidence that their declaration was deleted.', (i) => i.deletionsWithheld ?? 0);
    scalar('wimaxvm_source_blocked', '1 while the source of desired state cannot vouch for any deletion (not read yet, connection lost).', (i) => (i.sourceBlocked ? 1 : 0));
  }

  /** The Controller's onReconcile for one kind. */
  reconcileObserver(kind: string): (outcome: ReconcileOutcome, seconds: number) => void {
    // Every series exists from the start at 0, so rate() and absent() work before the first error.
    for (const result of RESULTS) this.reconciles.inc({ kind, result }, 0);
    this.retries.inc({ kind }, 0);
    this.reconcileDuration.zero({ kind });
    return (outcome, seconds) => {
      this.reconciles.inc({ kind, result: outcome });
      this.reconcileDuration.observe({ kind }, seconds);
      // The Controller requeues every failed key (backoff or unavailable-retry): one retry each.
      if (outcome === 'error') this.retries.inc({ kind });
    };
  }

  /** Reports a controller's queue under `kind`; a second call for the same kind replaces the first. */
  watchQueue(kind: string, queue: QueueView): void {
    this.queues.set(kind, queue);
  }

  /** The one source of the inventory gauges, read at every scrape; a second call replaces it. */
  watchInventory(read: () => Inventory): void {
    this.inventory = read;
  }

  /** The hypervisor port, with every async call timed. Only the port: keep the adapter for anything else. */
  instrumentHypervisor(h: Hypervisor): Hypervisor {
    const t = <T>(operation: string, call: () => Promise<T>): Promise<T> => timed(this.libvirtCalls, operation, call);
    // Explicit delegation rather than a Proxy: a method added to the port fails to compile here
    // until someone decides whether it is timed.
    return {
      get uri() { return h.uri; },
      domainType: () => h.domainType(),
      getDomain: (...a) => t('getDomain', () => h.getDomain(...a)),
      getDomainView: (...a) => t('getDomainView', () => h.getDomainView(...a)),
      listDomains: () => t('listDomains', () => h.listDomains()),
      activity: () => t('activity', () => h.activity()),
      nameOfActiveDomain: (...a) => t('nameOfActiveDomain', () => h.nameOfActiveDomain(...a)),
      define: (...a) => t('define', () => h.define(...a)),
      start: (...a) => t('start', () => h.start(...a)),
      shutdown: (...a) => t('shutdown', () => h.shutdown(...a)),
      destroy: (...a) => t('destroy', () => h.destroy(...a)),
      undefine: (...a) => t('undefine', () => h.undefine(...a)),
      suspend: (...a) => t('suspend', () => h.suspend(...a)),
      resume: (...a) => t('resume', () => h.resume(...a)),
      domainState: (...a) => t('domainState', () => h.domainState(...a)),
      subscribe: (...a) => h.subscribe(...a),
      eventsDelivered: () => h.eventsDelivered(),
      setMetadata: (...a) => t('setMetadata', () => h.setMetadata(...a)),
      getMetadata: (...a) => t('getMetadata', () => h.getMetadata(...a)),
      setMemory: (...a) => t('setMemory', () => h.setMemory(...a)),
      setVcpus: (...a) => t('setVcpus', () => h.setVcpus(...a)),
      attachDevice: (...a) => t('attachDevice', () => h.attachDevice(...a)),
      detachDevice: (...a) => t('detachDevice', () => h.detachDevice(...a)),
      managedSave: (...a) => t('managedSave', () => h.managedSave(...a)),
      hasManagedSave: (...a) => t('hasManagedSave', () => h.hasManagedSave(...a)),
      removeManagedSave: (...a) => t('removeManagedSave', () => h.removeManagedSave(...a)),
      interfaceStats: (...a) => t('interfaceStats', () => h.interfaceStats(...a)),
      blockStats: (...a) => t('blockStats', () => h.blockStats(...a)),
      nodeFigures: () => t('nodeFigures', () => h.nodeFigures()),
      getNetwork: (...a) => t('getNetwork', () => h.getNetwork(...a)),
      updateDhcpHost: (...a) => t('updateDhcpHost', () => h.updateDhcpHost(...a)),
    };
  }

  /** The datapath port, with every async call timed; the synchronous reads of its cache are not. */
  instrumentDatapath(d: Datapath): Datapath {
    const t = <T>(operation: string, call: () => Promise<T>): Promise<T> => timed(this.ovsCalls, operation, call);
    return {
      ensureBase: () => t('ensureBase', () => d.ensureBase()),
      refresh: () => t('refresh', () => d.refresh()),
      clientPath: (...a) => d.clientPath(...a),
      clientMacs: () => d.clientMacs(),
      applyClientPath: (...a) => t('applyClientPath', () => d.applyClientPath(...a)),
      removeClientPath: (...a) => t('removeClientPath', () => d.removeClientPath(...a)),
      slicePath: (...a) => d.slicePath(...a),
      sliceVlans: () => d.sliceVlans(),
      applySlicePath: (...a) => t('applySlicePath', () => d.applySlicePath(...a)),
      removeSlicePath: (...a) => t('removeSlicePath', () => d.removeSlicePath(...a)),
      getPort: (...a) => t('getPort', () => d.getPort(...a)),
      setPort: (...a) => t('setPort', () => d.setPort(...a)),
    };
  }

  /** The exposition text for a /metrics response. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Times one call; its result or error passes through untouched. */
async function timed<T>(histogram: CallHistogram, operation: string, call: () => Promise<T>): Promise<T> {
  const end = histogram.startTimer({ operation });
  try {
    const value = await call();
    end({ result: 'ok' });
    return value;
  } catch (err) {
    end({ result: 'error' });
    throw err;
  }
}
