// Kubernetes mode: desired state from informers, status through the status subresource,
// Events in the cluster, user changes as patches of the resources.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { kubeErrorMessage } from '../adapters/kube-api-error.js';
import { ConfigError } from '../config.js';
import { identifyClient } from '../adapters/kube-client-identity.js';
import { KubeDesiredStateWriter } from '../adapters/kube-desired-state-writer.js';
import { KubeEventRecorder } from '../adapters/kube-event-recorder.js';
import { KubeStatusStore } from '../adapters/kube-status-store.js';
import { kubeModeIdentity } from '../core/controller-identity.js';
import { KubeVlanClaims } from '../adapters/kube-vlan-claims.js';
import { KubeIpClaims } from '../adapters/kube-ip-claims.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { Logger } from '../core/logger.js';
import { KubeSource } from '../sources/kube-source.js';
import { KubeTrafficStatusWriter } from '../traffic/kube-traffic-status-writer.js';
import type { Mode } from './mode.js';

export interface KubeModeOptions {
  kubeConfig: KubeConfig;
  namespace?: string;
  nodeName?: string;
  /** Names this controller in its identity (with the cluster). */
  controllerName: string;
  /** An empty cluster may delete every VM. */
  allowEmpty?: boolean;
  /** Where all controllers of the testbed claim VLANs. */
  vlanClaimNamespace: string;
  /** Under leader election a replica starts as a standby: it watches and writes nothing. */
  standby?: boolean;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (!process.env.KUBECONFIG && !existsSync(join(homedir(), '.kube', 'config')) && !process.env.KUBERNETES_SERVICE_HOST) {
    // loadFromDefault would fall back to http://localhost:8080, a cluster nobody meant.
    throw new ConfigError('no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, write ~/.kube/config, or run in a pod');
  } else kc.loadFromDefault(); // in-cluster service account, $KUBECONFIG or ~/.kube/config
  return identifyClient(kc);
}

/** The API server's host and port: what tells one cluster from another to a libvirt host. */
function clusterAddress(kubeConfig: KubeConfig): string {
  const server = kubeConfig.getCurrentCluster()?.server;
  try {
    return server ? new URL(server).host : 'unknown-cluster';
  } catch {
    return server ?? 'unknown-cluster';
  }
}

export class KubeMode implements Mode {
  readonly name = 'kube';
  readonly statuses: KubeStatusStore;
  readonly events: KubeEventRecorder;
  readonly writer: KubeDesiredStateWriter;
  readonly trafficWriter: KubeTrafficStatusWriter;
  readonly vlanClaims: KubeVlanClaims;
  readonly ipClaims: KubeIpClaims;
  readonly namespace: string | undefined;
  /** Settled once the cluster answers (startSource), before anything reconciles. */
  identity: string;
  readonly witness: KubeSource;
  private readonly source: KubeSource;
  private readonly seenListeners: ((key: string) => void)[] = [];

  constructor(private readonly opts: KubeModeOptions, private readonly logger: Logger) {
    this.namespace = opts.namespace;
    this.identity = kubeModeIdentity(clusterAddress(opts.kubeConfig), opts.controllerName);
    identifyClient(opts.kubeConfig);
    this.source = new KubeSource({
      kubeConfig: opts.kubeConfig, logger,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
      writing: !opts.standby,
      onObject: (key) => {
        this.statuses.seen(key);
        for (const listener of this.seenListeners) listener(key);
      },
      ...(opts.allowEmpty ? { allowEmpty: true } : {}),
    });
    this.witness = this.source;
    this.statuses = new KubeStatusStore(opts.kubeConfig, this.source);
    this.events = new KubeEventRecorder(opts.kubeConfig, (key) => {
      const o = this.source.object(key);
      return o?.metadata.uid ? { apiVersion: o.apiVersion!, uid: o.metadata.uid } : undefined;
    }, logger);
    this.writer = new KubeDesiredStateWriter(opts.kubeConfig);
    this.trafficWriter = new KubeTrafficStatusWriter(opts.kubeConfig);
    this.vlanClaims = new KubeVlanClaims({ kubeConfig: opts.kubeConfig, namespace: opts.vlanClaimNamespace, node: opts.nodeName ?? '', logger });
    // In the same namespace as VLAN claims: one place holds everything the testbed hands out.
    this.ipClaims = new KubeIpClaims({ kubeConfig: opts.kubeConfig, namespace: opts.vlanClaimNamespace, node: opts.nodeName ?? '', logger });
  }

  /** Told of every object the watch delivers, every node's (the placement leader looks again). */
  onObjectSeen(listener: (key: string) => void): void {
    this.seenListeners.push(listener);
  }

  async startSource(store: DesiredStore): Promise<void> {
    await this.vlanClaims.start();
    await this.ipClaims.start();
    await this.source.start(store);
    await this.identifyCluster();
  }

  /**
   * The cluster by the uid of its kube-system namespace (the usual cluster id): an API server's
   * address is the same in many clusters (10.96.0.1 in a pod; a recreated minikube). Where that
   * namespace cannot be read, the address stays the cluster's name, and the log says so.
   */
  private async identifyCluster(): Promise<void> {
    try {
      const uid = (await this.opts.kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: 'kube-system' })).metadata?.uid;
      if (uid) this.identity = kubeModeIdentity(uid, this.opts.controllerName);
    } catch (err) {
      this.logger.warn('cannot read namespace kube-system to identify the cluster; naming it by its API server address', { error: kubeErrorMessage(err) });
    }
  }

  /** Leading now: the source may write (our finalizer). */
  startWriting(): void {
    this.source.startWriting();
  }

  stopWriting(): void {
    this.source.stopWriting();
  }

  async stopSource(): Promise<void> {
    await this.source.stop();
    await this.vlanClaims.stop();
    await this.ipClaims.stop();
  }

  async close(): Promise<void> {}
}
