// Kubernetes mode: desired state from informers, status through the status subresource,
// Events in the cluster, user changes as patches of the resources.
import { KubeConfig } from '@kubernetes/client-node';
import { identifyClient } from '../adapters/kube-client-identity.js';
import { KubeDesiredStateWriter } from '../adapters/kube-desired-state-writer.js';
import { KubeEventRecorder } from '../adapters/kube-event-recorder.js';
import { KubeStatusStore } from '../adapters/kube-status-store.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { Logger } from '../core/logger.js';
import { KubeSource } from '../sources/kube-source.js';
import type { Mode } from './mode.js';

export interface KubeModeOptions {
  kubeConfig: KubeConfig;
  namespace?: string;
  nodeName?: string;
  /** Under leader election a replica starts as a standby: it watches and writes nothing. */
  standby?: boolean;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault(); // in-cluster service account, $KUBECONFIG or ~/.kube/config
  return identifyClient(kc);
}

export class KubeMode implements Mode {
  readonly name = 'kube';
  readonly statuses: KubeStatusStore;
  readonly events: KubeEventRecorder;
  readonly writer: KubeDesiredStateWriter;
  readonly namespace: string | undefined;
  private readonly source: KubeSource;

  constructor(opts: KubeModeOptions, logger: Logger) {
    this.namespace = opts.namespace;
    identifyClient(opts.kubeConfig);
    this.source = new KubeSource({
      kubeConfig: opts.kubeConfig, logger,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
      writing: !opts.standby,
      onObject: (key) => this.statuses.seen(key),
    });
    this.statuses = new KubeStatusStore(opts.kubeConfig, this.source);
    this.events = new KubeEventRecorder(opts.kubeConfig, (key) => {
      const o = this.source.object(key);
      return o?.metadata.uid ? { apiVersion: o.apiVersion!, uid: o.metadata.uid } : undefined;
    }, logger);
    this.writer = new KubeDesiredStateWriter(opts.kubeConfig);
  }

  async startSource(store: DesiredStore): Promise<void> {
    await this.source.start(store);
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
  }

  async close(): Promise<void> {}
}
