// The VirtualMachine kind: types, the domain name derived from a resource, and defaults.
import { resourceKey, type Condition, type Resource, type ResourceKey } from './meta.js';
import type { Shaping } from './rate.js';
import type { LeaseSpec } from '../leases/lease-clock.js';
import type { VmInterface } from './live-spec.js';

export const VM_KIND = 'VirtualMachine';

export const RUN_STRATEGIES = ['Always', 'RerunOnFailure', 'Manual', 'Halted', 'Once'] as const;
export type RunStrategy = (typeof RUN_STRATEGIES)[number];

export type PrintableStatus =
  | 'Stopped' | 'Pending' | 'Provisioning' | 'Starting' | 'Running' | 'Paused' | 'Stopping'
  | 'Terminating' | 'CrashLoopBackOff' | 'Failed' | 'Unknown'
  /** Shut off with its memory saved to disk (libvirt managed save): declaring it Running restores it. */
  | 'Saved'
  /** Its lease (spec.lease) expired: stopped, saved or removed until renewed. */
  | 'Expired'
  /** Being moved to another hypervisor (spec.nodeName changed): live migration in progress. */
  | 'Migrating';

export const POWER_STATES = ['Running', 'Paused', 'Saved'] as const;
/** How a guest the runStrategy wants running should be: running, paused (suspended), or saved to disk (managed save). */
export type PowerState = (typeof POWER_STATES)[number];

export interface VirtualMachineSpec {
  nodeName?: string;
  /** Placement: only on a Hypervisor whose labels include every pair. */
  nodeSelector?: Record<string, string>;
  runStrategy: RunStrategy;
  /** Honoured when the runStrategy wants the guest running; Running when absent. */
  powerState?: PowerState;
  memory: string | number;
  vcpus: number;
  /** The most memory the balloon may give a running guest (a quantity); memory when absent. */
  maxMemory?: string | number;
  /** The most vCPUs that may be plugged into a running guest; vcpus when absent. */
  maxVcpus?: number;
  disks?: { image: string }[];
  /** The first NIC: the slice's. */
  network?: { mac?: string; ip?: string; vlan?: number; shaping?: Shaping; /** An IPPool of the VM's namespace to take an address from (status.allocations.ip). */ ipPool?: string };
  /** How long the VM may be kept, and what happens then (src/leases/). */
  lease?: LeaseSpec;
  /** NICs after the first, each on a libvirt network; hot-plugged into a running guest. */
  interfaces?: VmInterface[];
  /** A cloud-init NoCloud seed for the guest (src/seed/): its hostname, SSH keys and own user-data. */
  cloudInit?: CloudInitSpec;
}

export interface CloudInitSpec {
  /** The guest's host name; the VM's name when absent. */
  hostname?: string;
  sshAuthorizedKeys?: string[];
  /** The user's own user-data: a #cloud-config is merged with the seed's, a script goes beside it (src/seed/user-data.ts). */
  userData?: string;
}

export interface VirtualMachineStatus {
  printableStatus: PrintableStatus;
  observedGeneration: number;
  conditions: Condition[];
  allocations: { mac?: string; ip?: string; vlan?: number; uuid?: string };
  /** The Hypervisor that runs it: spec.nodeName, or the scheduler's choice. */
  nodeName?: string;
  domain?: { name: string; uuid: string; id?: number; state: string; vncPort?: number; port?: string };
  shaping?: { downlinkKbps?: number; uplinkKbps?: number };
  startedOnce?: boolean;
  restarts?: number;
  /** The last wimaxvm.io/restartedAt annotation value acted on. */
  restartedAt?: string;
  /** When the lease in force ends. */
  expiresAt?: string;
  /** The lease in force: when it started, the wimaxvm.io/renewedAt value acted on. */
  lease?: { startedAt: string; renewedAt?: string };
}

/** Set (to a timestamp) to ask for a graceful restart, as kubectl rollout restart does for pods. */
export const RESTARTED_AT_ANNOTATION = 'wimaxvm.io/restartedAt';

export type VirtualMachine = Resource<VirtualMachineSpec, VirtualMachineStatus>;

/**
 * The libvirt domain name of a resource: the bare name in the default namespace (so `virsh list`
 * reads like the old service: vm30), "namespace_name" elsewhere. Kubernetes names never contain
 * "_", so the mapping is one-to-one in both directions.
 */
export function domainNameFor(namespace: string, name: string): string {
  return namespace === 'default' ? name : `${namespace}_${name}`;
}

export function resourceNameForDomain(domainName: string): { namespace: string; name: string } {
  const cut = domainName.indexOf('_');
  return cut < 0
    ? { namespace: 'default', name: domainName }
    : { namespace: domainName.slice(0, cut), name: domainName.slice(cut + 1) };
}

/** The key of the VirtualMachine a domain name belongs to. */
export function vmKeyForDomain(domainName: string): ResourceKey {
  const { namespace, name } = resourceNameForDomain(domainName);
  return resourceKey(VM_KIND, namespace, name);
}
