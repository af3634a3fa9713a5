// Many hosts in Kubernetes mode (DaemonSet: one controller per node): the node's Hypervisor
// registered and kept current with its heartbeat, the placement leader among the nodes'
// controllers, and what the VM placement step reads on a node (it runs what is placed on it).
import type { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION } from '../../api/meta.js';
import { HYPERVISOR_KIND, HYPERVISOR_NAMESPACE, type Hypervisor } from '../../api/hypervisor.js';
import { errorMessage, type Logger } from '../../core/logger.js';
import type { Runnable } from '../../core/manager.js';
import type { KubeSource } from '../../sources/kube-source.js';
import type { PlacementView } from '../../reconcilers/virtual-machine/steps/placement.js';
import type { HostConnection } from '../host-connections.js';
import { DEFAULT_HEARTBEAT, HeartbeatLease } from './heartbeat.js';
import { HypervisorObjects } from './hypervisor-objects.js';
import { HypervisorRegistration } from './hypervisor-registration.js';
import { PlacementLeader } from './placement-leader.js';

/** Timings; tests shorten them. */
export interface KubeHostsTimings {
  heartbeat?: { leaseDurationMs: number; renewMs: number };
  /** How often the node's figures are read again. */
  refreshMs?: number;
  /** How often the leader looks at heartbeats and unschedulable VMs. */
  checkMs?: number;
  election?: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
}

export interface KubeHostsPart extends Runnable {
  readonly view: PlacementView;
  readonly leader: PlacementLeader;
  readonly registration: HypervisorRegistration;
}

export function makeKubeHostsPart(opts: {
  kubeConfig: KubeConfig; source: KubeSource; onObjectSeen: (listener: (key: string) => void) => void;
  host: string; uri: string; conn: HostConnection; namespace: string; logger: Logger; timings?: KubeHostsTimings;
}): KubeHostsPart {
  const log = opts.logger.child({ part: 'hosts' });
  const heartbeat = opts.timings?.heartbeat ?? DEFAULT_HEARTBEAT;
  const objects = new HypervisorObjects(opts.kubeConfig);
  const registration = new HypervisorRegistration({
    objects, heartbeat: new HeartbeatLease(opts.kubeConfig, opts.namespace, opts.host, heartbeat.leaseDurationMs),
    host: opts.host, uri: opts.uri, conn: opts.conn, logger: log, refreshMs: opts.timings?.refreshMs ?? 30_000, renewMs: heartbeat.renewMs,
  });
  const leader = new PlacementLeader({
    kubeConfig: opts.kubeConfig, source: opts.source, objects, namespace: opts.namespace, host: opts.host, logger: log,
    checkMs: opts.timings?.checkMs ?? heartbeat.renewMs, heartbeatDurationMs: heartbeat.leaseDurationMs,
    ...(opts.timings?.election ? { election: opts.timings.election } : {}),
  });
  opts.onObjectSeen((key) => { if (key.startsWith('VirtualMachine/')) leader.wake(); });
  const self: Hypervisor = {
    apiVersion: API_VERSION, kind: HYPERVISOR_KIND,
    metadata: { name: opts.host, namespace: HYPERVISOR_NAMESPACE, uid: '', generation: 0, creationTimestamp: '' },
    spec: { uri: opts.uri },
  };
  return {
    name: 'hosts (kube)',
    view: nodeView(self),
    leader,
    registration,
    start: async () => {
      registration.start();
      await leader.start().catch((err) => log.error('placement leader could not start; this node only runs the VMs placed on it', { error: errorMessage(err) }));
    },
    stop: async () => {
      await leader.stop();
      await registration.stop();
    },
  };
}

/**
 * A node runs the VMs placed on it (spec.nodeName, or the leader's status.nodeName); the source
 * hands it no other. So its placement step sees only its own host: each of its VMs is "here",
 * and status.nodeName keeps saying so.
 */
function nodeView(self: Hypervisor): PlacementView {
  return { hypervisors: () => [self], localHost: () => self.metadata.name, placed: () => [] };
}
