// The Hypervisor kind (cluster-scoped, short name hv): one libvirt host of the testbed, by its
// URI, with labels for VMs' spec.nodeSelector, an optional cordon and an optional overcommit
// ratio. Status: its capacity and what is left for wimaxvm's VMs, the VMs it runs, Ready.
import type { Condition, Resource } from './meta.js';

export const HYPERVISOR_KIND = 'Hypervisor';
export const HYPERVISOR_PLURAL = 'hypervisors';

/**
 * Cluster-scoped: file mode keeps such objects under the default namespace internally (the
 * store's keys are Kind/namespace/name); a declared namespace means nothing for them.
 */
export const HYPERVISOR_NAMESPACE = 'default';

export interface HypervisorSpec {
  /** libvirt URI: qemu:///system, qemu+ssh://host/system, qemu+tls://host/system, ... */
  uri: string;
  /** Cordoned (kubectl cordon's spec.unschedulable): no new VM is placed here. */
  unschedulable?: boolean;
  /** How far placement may overcommit this host; 1 (never) unless declared. */
  overcommit?: { memory?: number; vcpus?: number };
}

/** Resource figures as a Node shows them: memory a quantity in Ki (as the kubelet writes it). */
export interface HypervisorResources {
  memory: string;
  vcpus: number;
}

export interface HypervisorStatus {
  observedGeneration: number;
  conditions: Condition[];
  /** The host's own figures (libvirt's node info). */
  capacity?: HypervisorResources;
  /** What is left for another wimaxvm VM: capacity × the overcommit ratio minus wimaxvm's VMs. */
  allocatable?: HypervisorResources;
  /** wimaxvm's domains on this host, by name. */
  vms?: string[];
  vmCount?: number;
  /** kvm, or qemu where the host has no KVM (software emulation). */
  domainType?: string;
}

export type Hypervisor = Resource<HypervisorSpec, HypervisorStatus>;

/**
 * Set by `wimaxvm drain` with spec.unschedulable (its value: when): the VMs the scheduler placed
 * on the host move to others. A cordon alone (kubectl cordon) keeps them; uncordon removes both.
 */
export const DRAIN_ANNOTATION = 'wimaxvm.io/drain';

export function hypervisorKey(name: string): string {
  return `${HYPERVISOR_KIND}/${HYPERVISOR_NAMESPACE}/${name}`;
}
