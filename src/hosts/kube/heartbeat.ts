// A node's heartbeat in Kubernetes mode, as the kubelet's node Lease: each node's controller
// renews a coordination.k8s.io Lease named for its Hypervisor; the placement leader calls a host
// lost when its Lease has not changed for the Lease's duration, measured on the leader's own
// clock from when it last saw the Lease change (no two machines' clocks are compared).
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { httpStatus } from '../../adapters/kube-api-error.js';

export const HEARTBEAT_LABEL = 'wimaxvm.io/hypervisor-heartbeat';
/** The kubelet's node lease: 40 s, renewed every 10 s. */
export const DEFAULT_HEARTBEAT = { leaseDurationMs: 40_000, renewMs: 10_000 };

export function heartbeatLeaseName(host: string): string {
  return `wimaxvm-hv-${host}`;
}

/** The node's side: one Lease, created or renewed (guarded by resourceVersion). */
export class HeartbeatLease {
  private readonly api: CoordinationV1Api;

  constructor(kubeConfig: KubeConfig, private readonly namespace: string, private readonly host: string, private readonly durationMs: number) {
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
  }

  async renew(): Promise<void> {
    const name = heartbeatLeaseName(this.host);
    const spec = { holderIdentity: this.host, leaseDurationSeconds: Math.ceil(this.durationMs / 1000), renewTime: new V1MicroTime() };
    let lease: V1Lease | undefined;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace: this.namespace });
    } catch (err) {
      if (httpStatus(err) !== 404) throw err;
    }
    if (!lease) {
      await this.api.createNamespacedLease({ namespace: this.namespace, body: { metadata: { name, namespace: this.namespace, labels: { [HEARTBEAT_LABEL]: this.host, 'app.kubernetes.io/managed-by': 'wimaxvm' } }, spec } });
      return;
    }
    await this.api.replaceNamespacedLease({ name, namespace: this.namespace, body: { ...lease, spec: { ...lease.spec, ...spec } } });
  }
}

/** The leader's side: the heartbeats it reads. */
export async function readHeartbeats(kubeConfig: KubeConfig, namespace: string): Promise<Heartbeat[]> {
  const list = await kubeConfig.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace, labelSelector: HEARTBEAT_LABEL });
  return list.items.map((lease) => ({
    host: lease.metadata?.labels?.[HEARTBEAT_LABEL] ?? '',
    renewTime: String(lease.spec?.renewTime ?? ''),
    durationMs: (lease.spec?.leaseDurationSeconds ?? DEFAULT_HEARTBEAT.leaseDurationMs / 1000) * 1000,
  })).filter((h) => h.host);
}

export interface Heartbeat {
  host: string;
  renewTime: string;
  durationMs: number;
}

/** When the leader last saw each host's heartbeat change, and which hosts went silent (pure but for the times given). */
export class HeartbeatClock {
  private readonly seen = new Map<string, { renewTime: string; at: number }>();

  constructor(private readonly defaultDurationMs: number) {}

  /**
   * `hosts`: the registered Hypervisors. A host without a Lease counts as silent since the leader
   * first looked; a new leader waits a whole duration before calling anyone lost.
   */
  silent(hosts: readonly string[], heartbeats: readonly Heartbeat[], nowMs: number): { host: string; silentForMs: number }[] {
    const byHost = new Map(heartbeats.map((h) => [h.host, h]));
    const out: { host: string; silentForMs: number }[] = [];
    for (const host of hosts) {
      const beat = byHost.get(host);
      const renewTime = beat?.renewTime ?? '';
      const last = this.seen.get(host);
      if (!last || last.renewTime !== renewTime) {
        this.seen.set(host, { renewTime, at: nowMs });
        continue;
      }
      const silentForMs = nowMs - last.at;
      if (silentForMs > (beat?.durationMs ?? this.defaultDurationMs)) out.push({ host, silentForMs });
    }
    for (const host of this.seen.keys()) if (!hosts.includes(host)) this.seen.delete(host);
    return out;
  }

  /** A new term: what an earlier term saw is no evidence now. */
  reset(): void {
    this.seen.clear();
  }
}
