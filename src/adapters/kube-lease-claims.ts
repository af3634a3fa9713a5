// What VLAN claims and IP claims share in the API server: each claim is one coordination.k8s.io
// Lease in one namespace, marked by a label, kept known here by a watch, and written only under
// the server's own guards (create refused by 409 AlreadyExists; replace and delete under
// resourceVersion and uid preconditions), so two controllers never both win. What a claim means
// (its name, its annotations, when it yields) stays with kube-vlan-claims.ts and kube-ip-claims.ts.
import {
  ApiException, CoordinationV1Api, CustomObjectsApi, makeInformer,
  type Informer, type KubeConfig, type ObjectCache, type V1Lease,
} from '@kubernetes/client-node';
import { kindInfo } from '../api/kinds.js';
import { parseResourceKey, type ResourceKey } from '../api/meta.js';
import { VM_KIND } from '../api/virtual-machine.js';
import { errorMessage, type Logger } from '../core/logger.js';
import { WatchBackoff } from '../core/watch-backoff.js';

/** The holding VM's uid: a VM deleted and made again under the same name is another holder. */
export const HOLDER_UID_ANNOTATION = 'wimaxvm.io/holder-uid';
/** The node whose controller runs the VM ('' for a cluster-wide controller): only it releases. */
export const NODE_ANNOTATION = 'wimaxvm.io/node';

export const statusOf = (err: unknown) => (err instanceof ApiException ? err.code : undefined);

/** The server's own words (its Status message), not the client library's wrapping. */
export function serverMessage(err: unknown): string {
  if (err instanceof ApiException) {
    try {
      const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { message?: string };
      if (body?.message) return `${body.message} (HTTP ${err.code})`;
    } catch { /* not a Status */ }
    return `HTTP ${err.code}`;
  }
  return errorMessage(err);
}

export interface LeaseClaimStoreOptions {
  kubeConfig: KubeConfig;
  /** The namespace every controller of the testbed claims in. */
  namespace: string;
  /** The label that marks these claims among the namespace's Leases. */
  label: string;
  /** For the log: "VLAN claims", "IP claims". */
  what: string;
  logger: Logger;
  retryMaxMs?: number;
  /** A claim Lease seen (listed, added or changed, here or elsewhere). */
  onLease: (lease: V1Lease) => void;
  /** A claim Lease gone (deleted here or elsewhere). */
  onDeleted: (lease: V1Lease) => void;
}

export class LeaseClaimStore {
  private readonly leases: CoordinationV1Api;
  private readonly vms: CustomObjectsApi;
  private readonly informer: Informer<V1Lease> & ObjectCache<V1Lease>;
  private readonly backoff: WatchBackoff;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: LeaseClaimStoreOptions) {
    this.leases = opts.kubeConfig.makeApiClient(CoordinationV1Api);
    this.vms = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    const list = () => this.leases.listNamespacedLease({ namespace: opts.namespace, labelSelector: opts.label });
    this.informer = makeInformer<V1Lease>(opts.kubeConfig, `/apis/coordination.k8s.io/v1/namespaces/${opts.namespace}/leases`, list as never, opts.label);
    this.backoff = new WatchBackoff(opts.retryMaxMs !== undefined ? { maxMs: opts.retryMaxMs } : {});
    this.informer.on('connect', () => this.backoff.attempt());
    this.informer.on('add', (lease) => { this.backoff.delivered(); opts.onLease(lease); });
    this.informer.on('update', (lease) => { this.backoff.delivered(); opts.onLease(lease); });
    this.informer.on('delete', (lease) => { this.backoff.delivered(); opts.onDeleted(lease); });
    this.informer.on('error', (err) => this.restartWatch(err));
  }

  get namespace(): string {
    return this.opts.namespace;
  }

  /** Resolves once the claims are listed. */
  async start(): Promise<void> {
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.informer.stop();
  }

  /** The Lease as the server has it now; undefined when there is none. */
  async read(name: string): Promise<V1Lease | undefined> {
    try {
      return await this.leases.readNamespacedLease({ name, namespace: this.opts.namespace });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** Creates the claim (seen through onLease); false when one exists (the server's AlreadyExists). */
  async create(body: V1Lease): Promise<boolean> {
    try {
      this.opts.onLease(await this.leases.createNamespacedLease({ namespace: this.opts.namespace, body }));
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw err;
    }
  }

  /** Writes the claim as read and changed (resourceVersion guards it); false when it changed since (409) or went (404). */
  async replace(body: V1Lease): Promise<boolean> {
    try {
      this.opts.onLease(await this.leases.replaceNamespacedLease({ name: body.metadata!.name!, namespace: this.opts.namespace, body }));
      return true;
    } catch (err) {
      if (statusOf(err) === 409 || statusOf(err) === 404) return false;
      throw err;
    }
  }

  /** Deletes exactly the claim read (uid and resourceVersion; seen through onDeleted); false when it changed since. */
  async remove(lease: V1Lease): Promise<boolean> {
    const { name, uid, resourceVersion } = lease.metadata!;
    try {
      await this.leases.deleteNamespacedLease({ name: name!, namespace: this.opts.namespace, body: { preconditions: { uid: uid!, resourceVersion: resourceVersion! } } });
    } catch (err) {
      if (statusOf(err) === 409) return false;
      if (statusOf(err) !== 404) throw err;
    }
    this.opts.onDeleted(lease);
    return true;
  }

  /** Whether the claim's VM still exists (the same one: a VM made again under its name is another). */
  async holderExists(holderKey: ResourceKey, holderUid: string): Promise<boolean> {
    const { namespace, name } = parseResourceKey(holderKey);
    const { group, version, plural } = kindInfo(VM_KIND);
    try {
      const vm = (await this.vms.getNamespacedCustomObject({ group, version, plural, namespace, name })) as { metadata?: { uid?: string } };
      return vm.metadata?.uid === holderUid;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  /** A Lease body for a claim held by the VM `holderKey` (no duration: a claim lasts until released, not until a renew is missed). */
  claimLease(name: string, labelValue: string, holderKey: ResourceKey, annotations: Record<string, string>): V1Lease {
    const { namespace, name: vmName } = parseResourceKey(holderKey);
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: this.opts.namespace,
        labels: { [this.opts.label]: labelValue, 'app.kubernetes.io/managed-by': 'wimaxvm' },
        annotations,
      },
      spec: { holderIdentity: `${namespace}/${vmName}` },
    };
  }

  /**
   * The client library's informer stops for good on an error other than 410: start it again,
   * with the same backoff as the source's watches (its start() resolves even when it failed, so
   * that is no sign of health).
   */
  private restartWatch(err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoff.failed();
    this.opts.logger.warn(`${this.opts.what} watch failed, restarting`, { error: serverMessage(err), retryInMs: delay });
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (!this.stopped) this.informer.start().catch(() => { /* reported through 'error' again */ });
    }, delay);
  }
}
