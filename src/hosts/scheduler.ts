// Where a VM without spec.nodeName goes: kube-scheduler's shape (filter, then score the hosts
// that are left), pure and deterministic. Filters: ready, not cordoned, node selector, fit by
// memory and vCPUs (capacity × the host's overcommit ratio, 1 unless declared, minus what
// wimaxvm's VMs there take). Score: least allocated after placement; among equals the host with
// fewer wimaxvm VMs, then the name. Nothing fits: kube-scheduler's FitError message.

export interface Resources {
  memoryBytes: number;
  vcpus: number;
}

export interface HostView {
  name: string;
  labels?: Record<string, string>;
  ready: boolean;
  cordoned: boolean;
  capacity: Resources;
  /** How far the host may be overcommitted (1 = never, the default). */
  overcommit?: { memory?: number; vcpus?: number };
  /** What wimaxvm's VMs on the host take, and how many they are. */
  used: Resources & { vms: number };
}

export interface PlacementRequest extends Resources {
  /** spec.nodeSelector: every pair must be among the host's labels. */
  nodeSelector?: Record<string, string>;
}

export type Placement =
  | { host: string }
  | { host?: undefined; message: string; reasons: Record<string, string[]> };

// Reasons in kube-scheduler's wording, with hypervisors for nodes and VMs for pods.
export const REASON_NOT_READY = 'hypervisor(s) were not ready';
export const REASON_CORDONED = 'hypervisor(s) were cordoned';
export const REASON_SELECTOR = "hypervisor(s) didn't match VM's node selector";
export const REASON_MEMORY = 'Insufficient memory';
export const REASON_VCPUS = 'Insufficient vcpus';
export const NO_HYPERVISORS = 'no hypervisors available to schedule VMs';

/** The most the host offers wimaxvm's VMs: capacity × the overcommit ratio, whole units. */
export function allocatableTotal(host: HostView): Resources {
  return {
    memoryBytes: Math.floor(host.capacity.memoryBytes * (host.overcommit?.memory ?? 1)),
    vcpus: Math.floor(host.capacity.vcpus * (host.overcommit?.vcpus ?? 1)),
  };
}

/** What is left for another VM: allocatableTotal minus what wimaxvm's VMs take (never negative). */
export function allocatable(host: HostView): Resources {
  const total = allocatableTotal(host);
  return {
    memoryBytes: Math.max(0, total.memoryBytes - host.used.memoryBytes),
    vcpus: Math.max(0, total.vcpus - host.used.vcpus),
  };
}

/** Why the VM cannot go to this host: empty when it can. The first failing filter decides, as in kube-scheduler; fit names both resources when both are short. */
export function unfitReasons(host: HostView, request: PlacementRequest): string[] {
  if (!host.ready) return [REASON_NOT_READY];
  if (host.cordoned) return [REASON_CORDONED];
  for (const [key, value] of Object.entries(request.nodeSelector ?? {})) {
    if (host.labels?.[key] !== value) return [REASON_SELECTOR];
  }
  const free = allocatable(host);
  const reasons: string[] = [];
  if (request.memoryBytes > free.memoryBytes) reasons.push(REASON_MEMORY);
  if (request.vcpus > free.vcpus) reasons.push(REASON_VCPUS);
  return reasons;
}

/** kube-scheduler's LeastAllocated, 0..100: the mean share of memory and vCPUs left after placement. */
export function leastAllocatedScore(host: HostView, request: PlacementRequest): number {
  const total = allocatableTotal(host);
  const left = (capacity: number, used: number): number =>
    capacity <= 0 ? 0 : Math.floor(((capacity - used) * 100) / capacity);
  const memory = left(total.memoryBytes, host.used.memoryBytes + request.memoryBytes);
  const vcpus = left(total.vcpus, host.used.vcpus + request.vcpus);
  return Math.floor((memory + vcpus) / 2);
}

/** "0/3 hypervisors are available: 1 hypervisor(s) were cordoned, 2 Insufficient memory." (FitError.Error: counts per reason, sorted as strings). */
export function unschedulableMessage(total: number, reasons: Record<string, string[]>): string {
  const histogram = new Map<string, number>();
  for (const list of Object.values(reasons)) for (const reason of list) histogram.set(reason, (histogram.get(reason) ?? 0) + 1);
  const parts = [...histogram].map(([reason, count]) => `${count} ${reason}`).sort(byCodePoint);
  return `0/${total} hypervisors are available: ${parts.join(', ')}.`;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function schedule(request: PlacementRequest, hosts: readonly HostView[]): Placement {
  if (hosts.length === 0) return { message: NO_HYPERVISORS, reasons: {} };
  const reasons: Record<string, string[]> = {};
  const feasible: { host: HostView; score: number }[] = [];
  for (const host of hosts) {
    const why = unfitReasons(host, request);
    if (why.length > 0) reasons[host.name] = why;
    else feasible.push({ host, score: leastAllocatedScore(host, request) });
  }
  if (feasible.length === 0) return { message: unschedulableMessage(hosts.length, reasons), reasons };
  feasible.sort((a, b) => b.score - a.score || a.host.used.vms - b.host.used.vms || byCodePoint(a.host.name, b.host.name));
  return { host: feasible[0]!.host.name };
}

/** Places VMs one after another, each seeing the ones placed before it (the order is the caller's: sort it for determinism). */
export function scheduleAll<Key extends string>(requests: readonly (PlacementRequest & { key: Key })[], hosts: readonly HostView[]): Map<Key, Placement> {
  const current = new Map(hosts.map((h) => [h.name, { ...h, used: { ...h.used } }]));
  const out = new Map<Key, Placement>();
  for (const request of requests) {
    const placement = schedule(request, [...current.values()]);
    out.set(request.key, placement);
    if (placement.host !== undefined) {
      const host = current.get(placement.host)!;
      host.used = { memoryBytes: host.used.memoryBytes + request.memoryBytes, vcpus: host.used.vcpus + request.vcpus, vms: host.used.vms + 1 };
    }
  }
  return out;
}
