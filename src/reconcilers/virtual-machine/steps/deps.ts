// What the steps use: the reconciler's ports and settings, and what the reconciler remembers
// between reconciles (stops in progress, failed starts), which no status carries.
import type { ResourceKey } from '../../../api/meta.js';
import type { MacAllocator } from '../../../allocators/mac-allocator.js';
import type { VlanAllocator } from '../../../allocators/vlan-allocator.js';
import type { DesiredStore } from '../../../core/desired-store.js';
import type { Logger } from '../../../core/logger.js';
import type { Datapath } from '../../../ports/datapath.js';
import type { DiskImages } from '../../../ports/disk-images.js';
import type { EventRecorder } from '../../../ports/event-recorder.js';
import type { Hypervisor } from '../../../ports/hypervisor.js';
import type { StatusStore } from '../../../ports/status-store.js';
import type { VlanClaims } from '../../../ports/vlan-claims.js';
import type { ProblemReporter } from '../../problem-reporter.js';
import type { DomainActivity } from '../domain-activity.js';
import type { NicAttachment } from '../domain-xml.js';
import type { Identity } from '../ownership.js';
import type { Stopping } from '../plan.js';
import type { SwitchPorts } from '../switch-port.js';

/** Kept by the reconciler across reconciles of every VM (in memory only). */
export interface VmMemory {
  /** The graceful stops being waited on. */
  stopping: Map<ResourceKey, Stopping>;
  /** Consecutive failed starts (CrashLoopBackOff after a few). */
  startFailures: Map<ResourceKey, number>;
  /** The stop (by its start time) whose wait was last said in the log: said once. */
  stopWaitSaid: Map<ResourceKey, number>;
  /** What the last reconciles saw of each domain, so a poller can tell our changes from others'. */
  activity: DomainActivity;
}

/**
 * The ports an area's step needs (an IP pool store, a seed builder...). Each area adds its own,
 * optional, from its own step module by interface merging, so no two areas edit the same lines:
 *   declare module './deps.js' { interface AreaDeps { ipPools?: IpPools } }
 * They reach the steps from VirtualMachineReconcilerDeps (which extends this too) untouched.
 */
export interface AreaDeps {}

export interface StepDeps extends AreaDeps {
  store: DesiredStore;
  identity: Identity;
  vlans: VlanAllocator;
  vlanClaims: VlanClaims;
  datapath?: Datapath;
  /** The VM NICs are ports on Open vSwitch that this controller tags and shapes. */
  onSwitch: boolean;
  requeue?: (key: ResourceKey) => void;
  onStatusChange?: (key: ResourceKey) => void;
  hypervisor: Hypervisor;
  disks: DiskImages;
  statuses: StatusStore;
  events: EventRecorder;
  macs: MacAllocator;
  logger: Logger;
  nic: NicAttachment;
  shutdownTimeoutMs: number;
  now: () => number;
  problems: ProblemReporter;
  ports: SwitchPorts;
  memory: VmMemory;
}
