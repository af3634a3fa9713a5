// Desired state from a Kubernetes cluster: one informer (list + watch) per kind through
// @kubernetes/client-node. The library's informer re-lists on 410 Gone but stops for good on any
// other error, so each one is restarted here with backoff. A resource being deleted
// (deletionTimestamp set) is "gone" for the reconcilers: they clean up, and the status store
// removes our finalizer once they have.
import { CustomObjectsApi, makeInformer, PatchStrategy, setHeaderOptions, type Informer, type KubeConfig, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import { FINALIZER, kindInfo, KINDS, type KindInfo } from '../api/kinds.js';
import { parseResourceKey, resourceKey, type Resource, type ResourceKey } from '../api/meta.js';
import { VM_KIND } from '../api/virtual-machine.js';
import type { Absence, AbsenceWitness } from '../core/deletion-gate.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { Logger } from '../core/logger.js';
import { httpStatus, kubeErrorMessage } from '../adapters/kube-api-error.js';
import { WatchBackoff } from '../core/watch-backoff.js';

export interface KubeObject extends KubernetesObject {
  metadata: NonNullable<KubernetesObject['metadata']> & { name: string; namespace: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface KubeSourceOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** One namespace, or all when absent. */
  namespace?: string;
  /** DaemonSet mode: only VirtualMachines that run on this node (nodeOf) and their stations. */
  nodeName?: string;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A watch that fails after being up this long starts its backoff from the base again. */
  retryHealthyMs?: number;
  /**
   * Whether the source writes (adds our finalizer) from the start. Off for a replica under leader
   * election: a standby only watches, and startWriting() switches writes on when it leads.
   */
  writing?: boolean;
  /** Told of every object the watch delivers (the status store drops what it remembered). */
  onObject?: (key: ResourceKey) => void;
  /** A cluster without any wimaxvm resource may delete every VM; by default it deletes nothing. */
  allowEmpty?: boolean;
}

type Watched = Informer<KubeObject> & ObjectCache<KubeObject>;

export function toResource(object: KubeObject): Resource<any, unknown> {
  const m = object.metadata;
  return {
    apiVersion: object.apiVersion!,
    kind: object.kind!,
    metadata: {
      name: m.name, namespace: m.namespace, uid: m.uid ?? '', generation: m.generation ?? 0,
      creationTimestamp: m.creationTimestamp ? new Date(m.creationTimestamp).toISOString() : '',
      ...(m.labels ? { labels: m.labels } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
    },
    spec: object.spec ?? {},
  };
}

/**
 * The node whose controller runs a VM: status.nodeName (where it runs: written by that node's
 * controller, or the placement leader's choice for a VM that ran nowhere yet), else spec.nodeName
 * (the user's pin); '' for neither (not placed yet). A changed spec.nodeName is thus a move asked
 * of the node that runs the VM: only that node hands the VM over, by writing the new node into
 * status once the guest is there (src/hosts/kube/node-placement.ts), so two nodes never both run it.
 */
export function nodeOf(vm: KubeObject): string {
  const placed = vm.status?.nodeName;
  if (typeof placed === 'string' && placed) return placed;
  const spec = vm.spec?.nodeName;
  return typeof spec === 'string' ? spec : '';
}

export class KubeSource implements AbsenceWitness {
  private readonly informers = new Map<string, Watched>();
  private readonly api: CustomObjectsApi;
  private readonly retries = new Map<string, NodeJS.Timeout>();
  /** Kinds whose CRD the server does not serve (404), reported once until it is back. */
  private readonly missingCrds = new Set<string>();
  private stopped = false;
  /** Kinds whose list has succeeded at least once. */
  private readonly listed = new Set<string>();
  /** Kinds whose list or watch is failing, since when and why. */
  private readonly down = new Map<string, { since: string; error: string }>();
  /** Errors seen per kind, to tell whether a restart went through without a new one. */
  private readonly failures = new Map<string, number>();
  private onListed: (() => void) | undefined;
  private writing: boolean;

  private store: DesiredStore | undefined;

  constructor(private readonly opts: KubeSourceOptions) {
    this.api = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    this.writing = opts.writing ?? true;
  }

  /** This replica acts now (it leads): add our finalizer to every object that lacks it. */
  startWriting(): void {
    if (this.writing) return;
    this.writing = true;
    for (const info of KINDS) {
      if (!info.hasStatus || info.finalizer === false) continue;
      for (const object of this.list(info.kind)) {
        if (!object.metadata.deletionTimestamp && !(object.metadata.finalizers ?? []).includes(FINALIZER)) void this.addFinalizer(info, object);
      }
    }
  }

  /** This replica stopped acting (lost the lease): back to only watching. */
  stopWriting(): void {
    this.writing = false;
  }

  /**
   * Starts every informer, filling `store`; resolves once each has listed successfully (a failed
   * list is retried with backoff meanwhile), or when stopped first.
   */
  async start(store: DesiredStore): Promise<void> {
    this.store = store;
    for (const info of KINDS) this.informers.set(info.kind, this.informer(info));
    const allListed = new Promise<void>((resolve) => {
      this.onListed = () => { if (this.stopped || this.listed.size === KINDS.length) resolve(); };
    });
    // VMs first: in DaemonSet mode whether a station is this node's depends on its VM.
    await this.informers.get(VM_KIND)!.start();
    await Promise.all([...this.informers.entries()].filter(([kind]) => kind !== VM_KIND).map(([, i]) => i.start()));
    this.onListed?.();
    await allListed;
    if (!this.stopped) this.opts.logger.info('kube source synced', { namespace: this.opts.namespace ?? '(all)', resources: this.store!.size });
  }

  /** The deletion gate's question: is this resource's declaration known to be deleted? */
  absence(key: ResourceKey): Absence {
    const blocked = this.blocked();
    if (blocked) return { confirmed: false, why: blocked };
    const total = [...this.informers.values()].reduce((n, i) => n + i.list().length, 0);
    if (total === 0 && !this.opts.allowEmpty) {
      return { confirmed: false, why: 'the cluster holds no wimaxvm resources, and an empty list deletes nothing (run with --allow-empty to let it)' };
    }
    const { kind, namespace, name } = parseResourceKey(key);
    const object = this.informers.get(kind)?.get(name, namespace);
    if (!object) return { confirmed: true, evidence: 'absent from a successful list and watch of the cluster' };
    if (object.metadata.deletionTimestamp) return { confirmed: true, evidence: `deleted through the API at ${object.metadata.deletionTimestamp}` };
    if (!this.mine(kindInfo(kind), object)) {
      // Still declared, for another node: moved there (this node handed it over), which deletes nothing.
      const node = nodeOf(object);
      if (!node) return { confirmed: false, why: 'it is declared and placed on no node yet' };
      return { confirmed: false, why: `it is declared and runs on node ${node} now`, movedTo: node };
    }
    return { confirmed: false, why: 'it is still declared' };
  }

  blocked(): string | undefined {
    if (this.stopped) return 'the source is stopped';
    const unlisted = KINDS.filter((info) => !this.listed.has(info.kind)).map((info) => info.plural);
    const failure = [...this.down.values()][0];
    if (unlisted.length) return `the cluster has not been listed successfully yet (${unlisted.join(', ')})${failure ? `: ${failure.error}` : ''}`;
    if (failure) return `the watch of the cluster is down since ${failure.since}: ${failure.error}`;
    return undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.onListed?.();
    for (const timer of this.retries.values()) clearTimeout(timer);
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  /**
   * The object as last seen (with its status and finalizers), if it is this controller's: in
   * DaemonSet mode another node's VM is not "gone" here, it is none of our business.
   */
  object(key: ResourceKey): KubeObject | undefined {
    const [kind, namespace, name] = key.split('/');
    const object = this.informers.get(kind!)?.get(name!, namespace);
    return object && this.mine(kindInfo(kind!), object) ? object : undefined;
  }

  /** DaemonSet mode: the node a still-declared VM runs on now, if that is another node (it moved there). */
  movedAway(key: ResourceKey): string | undefined {
    const [kind, namespace, name] = key.split('/');
    if (!this.opts.nodeName || kind !== VM_KIND) return undefined;
    const object = this.informers.get(kind)?.get(name!, namespace);
    const node = object && nodeOf(object);
    if (!object || object.metadata.deletionTimestamp || !node || node === this.opts.nodeName) return undefined;
    return node;
  }

  get nodeName(): string | undefined {
    return this.opts.nodeName;
  }

  list(kind: string): KubeObject[] {
    const info = kindInfo(kind);
    return (this.informers.get(kind)?.list() ?? []).filter((o) => this.mine(info, o));
  }

  /** Every object of the kind the watch holds, every node's (the placement leader reads them all). */
  listAll(kind: string): readonly KubeObject[] {
    return this.informers.get(kind)?.list() ?? [];
  }

  private informer(info: KindInfo): Watched {
    const ns = this.opts.namespace;
    const path = `/apis/${info.group}/${info.version}${ns ? `/namespaces/${ns}` : ''}/${info.plural}`;
    const list = async () => {
      const result = await (ns
        ? this.api.listNamespacedCustomObject({ group: info.group, version: info.version, namespace: ns, plural: info.plural })
        : this.api.listClusterCustomObject({ group: info.group, version: info.version, plural: info.plural }));
      // Marked once the informer has taken the list in (its deletions of what vanished included).
      setImmediate(() => this.markUp(info.kind, true));
      this.crdServed(info);
      return result;
    };
    const informer = makeInformer<KubeObject>(this.opts.kubeConfig, path, list as never) as Watched;
    const backoff = new WatchBackoff({
      ...(this.opts.retryBaseMs !== undefined ? { baseMs: this.opts.retryBaseMs } : {}),
      ...(this.opts.retryMaxMs !== undefined ? { maxMs: this.opts.retryMaxMs } : {}),
      ...(this.opts.retryHealthyMs !== undefined ? { healthyMs: this.opts.retryHealthyMs } : {}),
    });
    const seen = (object: KubeObject) => {
      backoff.delivered();
      this.seen(info, object);
    };
    informer.on('add', seen);
    informer.on('update', seen);
    informer.on('delete', (object) => {
      backoff.delivered();
      this.gone(info, object);
    });
    // Announced at every attempt, working or not: a start, not a sign of health.
    informer.on('connect', () => backoff.attempt());
    informer.on('error', (err) => {
      if (this.stopped) return;
      this.failures.set(info.kind, (this.failures.get(info.kind) ?? 0) + 1);
      if (!this.down.has(info.kind)) this.down.set(info.kind, { since: new Date().toISOString(), error: kubeErrorMessage(err) });
      const delay = backoff.failed();
      this.reportWatchFailure(info, err, delay);
      clearTimeout(this.retries.get(info.kind));
      this.retries.set(info.kind, setTimeout(() => {
        if (this.stopped) return;
        const before = this.failures.get(info.kind);
        informer.start().then(
          // Up again if no new error came while it listed and connected its watch.
          () => { if (this.failures.get(info.kind) === before) this.markUp(info.kind, false); },
          () => { /* reported through 'error' again */ },
        );
      }, delay));
    });
    return informer;
  }

  private markUp(kind: string, listed: boolean): void {
    if (listed) this.listed.add(kind);
    if (this.down.delete(kind)) this.opts.logger.info('watch is up again', { kind });
    this.onListed?.();
  }

  /** A missing CRD is said once, clearly; other failures each time, with the growing delay. */
  private reportWatchFailure(info: KindInfo, err: unknown, retryInMs: number): void {
    if (httpStatus(err) === 404) {
      if (this.missingCrds.has(info.kind)) return;
      this.missingCrds.add(info.kind);
      this.opts.logger.error(`the API server does not serve ${info.plural}.${info.group}: is its CRD installed? (kubectl apply -f crds/); retrying with backoff, quietly`, { kind: info.kind });
      return;
    }
    this.opts.logger.warn('watch failed, restarting', { kind: info.kind, error: kubeErrorMessage(err), retryInMs });
  }

  private crdServed(info: KindInfo): void {
    if (this.missingCrds.delete(info.kind)) this.opts.logger.info(`${info.plural}.${info.group} is served again`, { kind: info.kind });
  }

  private key(info: KindInfo, object: KubeObject): ResourceKey {
    return resourceKey(info.kind, object.metadata.namespace, object.metadata.name);
  }

  /** On this node's watch (DaemonSet mode)? Stations follow the VM they are bound to. */
  private mine(info: KindInfo, object: KubeObject): boolean {
    const node = this.opts.nodeName;
    if (!node) return true;
    if (info.kind === VM_KIND) return nodeOf(object) === node;
    if (info.kind === 'WimaxClient') {
      const vm = this.informers.get(VM_KIND)?.get(String(object.spec?.vmName), object.metadata.namespace);
      return vm !== undefined && nodeOf(vm) === node;
    }
    return true;
  }

  private seen(info: KindInfo, object: KubeObject): void {
    const key = this.key(info, object);
    this.opts.onObject?.(key);
    if (info.kind === VM_KIND && this.opts.nodeName) this.recheckStationsOf(object);
    if (object.metadata.deletionTimestamp || !this.mine(info, object)) {
      this.store!.delete(key);
      return;
    }
    if (this.writing && info.hasStatus && info.finalizer !== false && !(object.metadata.finalizers ?? []).includes(FINALIZER)) void this.addFinalizer(info, object);
    this.store!.set(key, toResource(object));
  }

  private gone(info: KindInfo, object: KubeObject): void {
    this.opts.onObject?.(this.key(info, object));
    this.store!.delete(this.key(info, object));
    if (info.kind === VM_KIND && this.opts.nodeName) this.recheckStationsOf(object);
  }

  /** A VM arrived, moved node or went: its stations are this node's, or not, with it. */
  private recheckStationsOf(vm: KubeObject): void {
    const clients = this.informers.get('WimaxClient');
    const info = kindInfo('WimaxClient');
    for (const client of clients?.list(vm.metadata.namespace) ?? []) {
      if (client.spec?.vmName === vm.metadata.name) this.seen(info, client);
    }
  }

  /** Guarded by resourceVersion: a stale view gets 409 and the next event tries again. */
  private async addFinalizer(info: KindInfo, object: KubeObject): Promise<void> {
    const m = object.metadata;
    try {
      await this.api.patchNamespacedCustomObject(
        { group: info.group, version: info.version, namespace: m.namespace, plural: info.plural, name: m.name,
          body: { metadata: { resourceVersion: m.resourceVersion, finalizers: [...(m.finalizers ?? []), FINALIZER] } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      this.opts.logger.debug('could not add the finalizer yet', { key: this.key(info, object), error: kubeErrorMessage(err) });
    }
  }
}
