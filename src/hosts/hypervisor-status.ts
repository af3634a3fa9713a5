// A Hypervisor's status from what its libvirt says (pure): capacity from the node figures, what
// wimaxvm's domains there take, allocatable = capacity × overcommit − that, and Ready. And the
// scheduler's view of a Hypervisor (HostView) from its spec, labels and status.
import { findCondition, setCondition } from '../api/meta.js';
import type { Hypervisor, HypervisorStatus } from '../api/hypervisor.js';
import type { DomainSnapshot, NodeFigures } from '../ports/hypervisor.js';
import { parseDomainXml, type OwnerMetadata } from '../reconcilers/virtual-machine/domain-xml.js';
import type { Identity } from '../reconcilers/virtual-machine/ownership.js';
import { allocatableTotal, type HostView, type Resources } from './scheduler.js';

export interface HostUsage extends Resources {
  /** wimaxvm's domains, by name, sorted. */
  vms: string[];
}

/**
 * What wimaxvm's domains on a host take: every domain wimaxvm made (its metadata names the VM
 * it belongs to), running or not: a defined guest is placed there and takes its share when it
 * starts. Memory and vCPUs from the persistent definition. `owns` says which are this
 * controller's: only those are its VMs there (status.vms, the count drain waits to see empty);
 * another controller's on a shared host still take their room.
 */
export function usageOf(domains: readonly DomainSnapshot[], owns: (owner: OwnerMetadata) => boolean = () => true): HostUsage {
  const usage: HostUsage = { memoryBytes: 0, vcpus: 0, vms: [] };
  for (const domain of domains) {
    let parsed;
    try {
      parsed = parseDomainXml(domain.persistentXml);
    } catch {
      continue; // not ours to judge
    }
    if (!parsed.owner) continue;
    usage.memoryBytes += parsed.facts.memoryKiB * 1024;
    usage.vcpus += parsed.facts.vcpus || 0;
    if (owns(parsed.owner)) usage.vms.push(domain.name);
  }
  usage.vms.sort();
  return usage;
}

/**
 * Whether a wimaxvm domain counts among this controller's VMs (usageOf's `owns`): not when it
 * names another controller (another watched directory or cluster on a shared host). One that
 * names none (made before identities, or claimed by `wimaxvm adopt`) counts, as before: whose it
 * is is not known.
 */
export function ownedBy(identity: Identity): (owner: OwnerMetadata) => boolean {
  return (owner) => owner.controller === undefined || owner.controller === identity.self || identity.adoptFrom?.includes(owner.controller) === true;
}

/** Memory as the kubelet writes it in a Node's status: whole KiB. */
export function kiQuantity(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

export function parseKiQuantity(quantity: string | undefined): number | undefined {
  const m = quantity === undefined ? null : /^(\d+)Ki$/.exec(quantity);
  return m ? Number(m[1]) * 1024 : undefined;
}

function overcommitOf(hv: Hypervisor): HostView['overcommit'] {
  return hv.spec.overcommit ? { ...hv.spec.overcommit } : undefined;
}

/** The status of a host that answered. */
export function reachableStatus(hv: Hypervisor, figures: NodeFigures, usage: HostUsage, domainType: string, now: string): HypervisorStatus {
  const capacity = { memoryBytes: figures.memoryKiB * 1024, vcpus: figures.cpus };
  const total = allocatableTotal({ capacity, overcommit: overcommitOf(hv) } as HostView);
  const generation = hv.metadata.generation;
  return {
    observedGeneration: generation,
    conditions: setCondition(hv.status?.conditions ?? [], {
      type: 'Ready', status: 'True', reason: 'Connected', observedGeneration: generation,
      message: `libvirt at ${hv.spec.uri} answers (${domainType})`,
    }, now),
    capacity: { memory: kiQuantity(capacity.memoryBytes), vcpus: capacity.vcpus },
    allocatable: { memory: kiQuantity(Math.max(0, total.memoryBytes - usage.memoryBytes)), vcpus: Math.max(0, total.vcpus - usage.vcpus) },
    vms: usage.vms,
    vmCount: usage.vms.length,
    domainType,
  };
}

/** A host that does not answer: Ready=False with libvirt's error; its last figures and VMs are kept (as a NotReady Node keeps its capacity). */
export function unreachableStatus(hv: Hypervisor, why: string, now: string): HypervisorStatus {
  const generation = hv.metadata.generation;
  return {
    ...hv.status,
    observedGeneration: generation,
    conditions: setCondition(hv.status?.conditions ?? [], {
      type: 'Ready', status: 'False', reason: 'Unreachable', observedGeneration: generation,
      message: `libvirt at ${hv.spec.uri} does not answer: ${why}; retrying`,
    }, now),
  };
}

export function isReady(hv: Hypervisor): boolean {
  return findCondition(hv.status?.conditions, 'Ready')?.status === 'True';
}

/**
 * The scheduler's view of a Hypervisor. `used` is what the caller knows its VMs there take (the
 * VMs placed on it, including those placed a moment ago and not yet defined: kube-scheduler's
 * assumed pods). A host without figures yet is not ready for placement.
 */
export function hostViewOf(hv: Hypervisor, used: Resources & { vms: number }): HostView {
  const memoryBytes = parseKiQuantity(hv.status?.capacity?.memory);
  const vcpus = hv.status?.capacity?.vcpus;
  const known = memoryBytes !== undefined && vcpus !== undefined;
  return {
    name: hv.metadata.name,
    labels: hv.metadata.labels ?? {},
    ready: known && isReady(hv),
    cordoned: hv.spec.unschedulable === true,
    capacity: { memoryBytes: memoryBytes ?? 0, vcpus: vcpus ?? 0 },
    ...(hv.spec.overcommit ? { overcommit: overcommitOf(hv) } : {}),
    used,
  };
}

/** What wimaxvm's VMs take on the host as its last status says: allocatable total minus allocatable (before the caller knows better). */
export function usedFromStatus(hv: Hypervisor): Resources & { vms: number } {
  const memoryBytes = parseKiQuantity(hv.status?.capacity?.memory) ?? 0;
  const total = allocatableTotal({ capacity: { memoryBytes, vcpus: hv.status?.capacity?.vcpus ?? 0 }, overcommit: overcommitOf(hv) } as HostView);
  return {
    memoryBytes: Math.max(0, total.memoryBytes - (parseKiQuantity(hv.status?.allocatable?.memory) ?? total.memoryBytes)),
    vcpus: Math.max(0, total.vcpus - (hv.status?.allocatable?.vcpus ?? total.vcpus)),
    vms: hv.status?.vmCount ?? 0,
  };
}
