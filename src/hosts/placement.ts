// Where a VM runs, decided once per reconcile (pure): spec.nodeName if set; else where it was
// placed before (placement is sticky: moving is a migration); else where its domain already is;
// else the scheduler's choice over the declared Hypervisors, counting every VM already placed on
// each (kube-scheduler's assumed pods: placed but not defined yet). Without declared
// Hypervisors, nothing is decided (one host, as before).
import { DRAIN_ANNOTATION, type Hypervisor } from '../api/hypervisor.js';
import { parseMemory } from '../api/quantity.js';
import type { VirtualMachineSpec } from '../api/virtual-machine.js';
import { hostViewOf, isReady, usedFromStatus } from './hypervisor-status.js';
import { schedule } from './scheduler.js';

export interface PlacedVm {
  key: string;
  /** Its libvirt domain's name (a Hypervisor's status.vms lists those it saw). */
  domainName: string;
  nodeName: string;
  memoryBytes: number;
  vcpus: number;
}

export interface PlacementInput {
  vmKey: string;
  spec: VirtualMachineSpec;
  previousNodeName?: string | undefined;
  /** The VM's domain exists (where it is placed: its previous nodeName, else the own connection). */
  definedLocally: boolean;
  /** Hosts besides localHost that this controller drives (src/hosts/placed-hypervisor.ts). */
  drives?: (host: string) => boolean;
  /**
   * Hosts a guest defined here may move to; the hosts it drives unless said. Kubernetes mode: other
   * nodes this node's libvirt can reach, whose own controllers run the guest once it is there.
   */
  movableTo?: (host: string) => boolean;
  /** Where the domain's calls go now (a finished migration's destination before status says it); previousNodeName when absent. */
  currentHost?: string | undefined;
  hypervisors: readonly Hypervisor[];
  /** The declared Hypervisor this controller's own connection (--connect) reaches, if any. */
  localHost?: string | undefined;
  /** Every VM placed so far (status.nodeName), this one included or not: asked only when scheduling (it walks every VM). */
  placed: () => readonly PlacedVm[];
}

export type PlacementDecision =
  | { kind: 'unmanaged' }
  /** Runs on the host this controller drives. */
  | { kind: 'here'; nodeName: string; message: string; reason?: 'DrainBlocked' }
  /** Placed on (or moved to) a host this controller does not drive: its controller runs it there. */
  | { kind: 'elsewhere'; nodeName: string; message: string }
  | { kind: 'unschedulable'; message: string; reasons: Record<string, string[]> }
  /** Defined on `from`, spec.nodeName names `to` (or `from` is drained and the scheduler chose `to`), a Ready host this controller drives: move it. */
  | { kind: 'migrate'; from: string; to: string; drain?: string };

export function decidePlacement(input: PlacementInput): PlacementDecision {
  const { spec, hypervisors, localHost } = input;
  if (hypervisors.length === 0) return { kind: 'unmanaged' };
  const driven = (host: string): boolean => host === localHost || input.drives?.(host) === true;
  const ready = (host: string): boolean => hypervisors.some((hv) => hv.metadata.name === host && isReady(hv));
  const at = (nodeName: string, why: string): PlacementDecision => driven(nodeName) && (nodeName === localHost || ready(nodeName))
    ? { kind: 'here', nodeName, message: `${why} on ${nodeName}` }
    : driven(nodeName)
    ? { kind: 'elsewhere', nodeName, message: `${why} on ${nodeName}, which is not Ready; waiting` }
    : { kind: 'elsewhere', nodeName, message: `${why} on ${nodeName}, a hypervisor this controller does not drive (${localHost ? `it drives ${localHost}` : 'its --connect URI is no declared Hypervisor'}); waiting` };
  // Moved by this controller to a host it does not drive (Kubernetes mode: another node), whatever
  // is left here: that host's controller runs it from now on.
  if (input.movableTo && input.currentHost && !driven(input.currentHost)) {
    return { kind: 'elsewhere', nodeName: input.currentHost, message: `moved to ${input.currentHost}, whose controller runs it` };
  }
  // A guest that runs here stays here, whatever else is said: moving it is a migration.
  const definedAt = input.definedLocally ? input.currentHost ?? input.previousNodeName ?? localHost : undefined;
  const movable = (host: string): boolean => (input.movableTo ?? driven)(host) && ready(host);
  if (definedAt) {
    if (!spec.nodeName && draining(hypervisors, definedAt)) return drainedAway(input, definedAt, movable);
    if (!spec.nodeName || spec.nodeName === definedAt) return { kind: 'here', nodeName: definedAt, message: `runs on ${definedAt}` };
    if (movable(spec.nodeName)) return { kind: 'migrate', from: definedAt, to: spec.nodeName };
    return { kind: 'here', nodeName: definedAt, message: `runs on ${definedAt}; spec.nodeName names ${spec.nodeName}, which is not a Ready hypervisor ${input.movableTo ? 'this node can move it to' : 'this controller drives'}: it stays` };
  }
  if (spec.nodeName) return at(spec.nodeName, 'spec.nodeName places it');
  if (input.previousNodeName) return at(input.previousNodeName, 'placed');
  const placement = scheduleVm(input);
  if (placement.host === undefined) return { kind: 'unschedulable', message: placement.message, reasons: placement.reasons };
  return at(placement.host, 'the scheduler placed it');
}

/** A host being drained (wimaxvm drain): cordoned, and its scheduler-placed VMs leave it. */
function draining(hypervisors: readonly Hypervisor[], host: string): boolean {
  const hv = hypervisors.find((h) => h.metadata.name === host);
  return hv?.spec.unschedulable === true && hv.metadata.annotations?.[DRAIN_ANNOTATION] !== undefined;
}

/** A VM the scheduler placed on a drained host: where the scheduler puts it now (the drained host is cordoned), else it stays and says why. */
function drainedAway(input: PlacementInput, from: string, movable: (h: string) => boolean): PlacementDecision {
  const placement = scheduleVm(input);
  const to = placement.host;
  const drainedAt = input.hypervisors.find((h) => h.metadata.name === from)?.metadata.annotations?.[DRAIN_ANNOTATION] ?? '';
  if (to !== undefined && to !== from && movable(to)) return { kind: 'migrate', from, to, drain: drainedAt };
  const why = to === undefined ? placement.message : `the scheduler chose ${to}, which this controller cannot move it to`;
  return { kind: 'here', nodeName: from, reason: 'DrainBlocked', message: `runs on ${from}, which is being drained; it stays: ${why}` };
}

/** The scheduler over the declared Hypervisors for this VM, counting the VMs placed on each. */
function scheduleVm(input: PlacementInput): ReturnType<typeof schedule> {
  const { spec, hypervisors } = input;
  const placed = input.placed();
  // What the host's status counted (every wimaxvm domain there), plus the VMs placed on it that
  // its status does not list yet (kube-scheduler's assumed pods).
  const hosts = hypervisors.map((hv) => {
    const used = usedFromStatus(hv);
    const seen = new Set(hv.status?.vms ?? []);
    for (const vm of placed) {
      if (vm.key === input.vmKey || vm.nodeName !== hv.metadata.name || seen.has(vm.domainName)) continue;
      used.memoryBytes += vm.memoryBytes;
      used.vcpus += vm.vcpus;
      used.vms += 1;
    }
    return hostViewOf(hv, used);
  });
  return schedule({ memoryBytes: parseMemory(spec.memory), vcpus: spec.vcpus, ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}) }, hosts);
}

/** What a placed VM takes, for PlacedVm (its spec's memory and vCPUs; a spec that does not parse takes nothing). */
export function demandOf(spec: VirtualMachineSpec): { memoryBytes: number; vcpus: number } {
  try {
    return { memoryBytes: parseMemory(spec.memory), vcpus: spec.vcpus };
  } catch {
    return { memoryBytes: 0, vcpus: 0 };
  }
}
