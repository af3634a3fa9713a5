// Many hosts in Kubernetes mode (DaemonSet: one controller per node): the node's Hypervisor
// registered and kept current with its heartbeat, the placement leader among the nodes'
// controllers, and what the VM placement step reads and calls on a node (src/hosts/kube/node-placement.ts:
// it runs what is placed on it and moves its guests to other nodes).
import type { KubeConfig } from '@kubernetes/client-node';
import { LibvirtHypervisor } from '../../adapters/libvirt/libvirt-hypervisor.js';
import { resourceKey } from '../../api/meta.js';
import { VM_KIND, type VirtualMachineStatus } from '../../api/virtual-machine.js';
import { waitsFor } from '../host-vms.js';
import type { DeletionGate } from '../../core/deletion-gate.js';
import type { Identity } from '../../reconcilers/virtual-machine/ownership.js';
import { ownedBy } from '../hypervisor-status.js';
import { errorMessage, type Logger } from '../../core/logger.js';
import type { Runnable } from '../../core/manager.js';
import type { KubeSource } from '../../sources/kube-source.js';
import { DEFAULT_HEARTBEAT, HeartbeatLease } from './heartbeat.js';
import { HypervisorObjects, toHypervisor } from './hypervisor-objects.js';
import { HypervisorRegistration } from './hypervisor-registration.js';
import { nodePlacement, type NodePlacement } from './node-placement.js';
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
  readonly view: NodePlacement;
  readonly leader: PlacementLeader;
  readonly registration: HypervisorRegistration;
}

export function makeKubeHostsPart(opts: {
  kubeConfig: KubeConfig; source: KubeSource; onObjectSeen: (listener: (key: string) => void) => void;
  /** `uri`: what other nodes reach this node's libvirt at (its Hypervisor's spec.uri). */
  host: string; uri: string; local: LibvirtHypervisor; namespace: string;
  /** A guest stopped for a move (its disks cannot follow it live) is powered off after this long. */
  stopTimeoutMs: number; logger: Logger; timings?: KubeHostsTimings;
  gate: Pick<DeletionGate, 'decideMigrated'>; requeue: (key: string) => void;
  /** This controller's: its Hypervisor lists only the domains that name it. */
  identity: Identity;
}): KubeHostsPart {
  const log = opts.logger.child({ part: 'hosts' });
  const heartbeat = opts.timings?.heartbeat ?? DEFAULT_HEARTBEAT;
  const objects = new HypervisorObjects(opts.kubeConfig);
  const registration = new HypervisorRegistration({
    objects, heartbeat: new HeartbeatLease(opts.kubeConfig, opts.namespace, opts.host, heartbeat.leaseDurationMs),
    host: opts.host, uri: opts.uri, conn: opts.local, owns: ownedBy(opts.identity), logger: log, refreshMs: opts.timings?.refreshMs ?? 30_000, renewMs: heartbeat.renewMs,
  });
  const leader = new PlacementLeader({
    kubeConfig: opts.kubeConfig, source: opts.source, objects, namespace: opts.namespace, host: opts.host, logger: log,
    checkMs: opts.timings?.checkMs ?? heartbeat.renewMs, heartbeatDurationMs: heartbeat.leaseDurationMs,
    ...(opts.timings?.election ? { election: opts.timings.election } : {}),
  });
  opts.onObjectSeen((key) => { if (key.startsWith('VirtualMachine/')) leader.wake(); });
  const view = nodePlacement({
    self: opts.host, local: opts.local, gate: opts.gate, logger: log, requeue: opts.requeue, stopTimeoutMs: opts.stopTimeoutMs,
    hypervisors: () => leader.hypervisorObjects().map(toHypervisor),
    vms: () => opts.source.listAll(VM_KIND),
    open: (uri) => new LibvirtHypervisor({ uri, logger: log }),
  });
  // A Hypervisor changed (Ready, cordoned, drained, its URI): as in file mode (markHostVms), this
  // node's VMs look again if it is this node's, or if they wait for it (a move may be possible now).
  leader.onHypervisorChange((host) => {
    for (const vm of opts.source.list(VM_KIND)) {
      if (host === opts.host || waitsFor(host, vm.spec, vm.status as VirtualMachineStatus | undefined)) opts.requeue(resourceKey(VM_KIND, vm.metadata.namespace, vm.metadata.name));
    }
  });
  return {
    name: 'hosts (kube)',
    view,
    leader,
    registration,
    start: async () => {
      registration.start();
      await leader.start().catch((err) => log.error('placement leader could not start; this node only runs the VMs placed on it', { error: errorMessage(err) }));
    },
    stop: async () => {
      await leader.stop();
      await registration.stop();
      await view.close();
    },
  };
}
