// What `wimaxvm drain` prints while the controller empties a host, and when it ends: the same
// for the watched directory (file mode) and the API server (Kubernetes mode); each gives a
// DrainSource. As kubectl drain retries an eviction a PodDisruptionBudget refuses until its
// --timeout, a VM with nowhere to go (DrainBlocked) is said once and waited for: room may appear
// (a host uncordoned or declared, another VM gone). A failed move the controller will not try
// again ends the drain at once.
import type { VirtualMachineStatus } from '../api/virtual-machine.js';

export interface DrainedVm {
  /** "name" in the default namespace, "ns/name" elsewhere. */
  label: string;
  status?: VirtualMachineStatus | undefined;
  /** Whether its status answers its declaration as it is now (not a status from before an edit). */
  current(): Promise<boolean>;
}

export interface DrainSource {
  /** Every VM with its status, and the VMs the host's Hypervisor status still lists. */
  read(): Promise<{ vms: DrainedVm[]; left: string[] }>;
}

export interface DrainOutput {
  out(line: string): void;
  err(line: string): void;
}

export const DRAIN_POLL_MS = 500;

/** Polls the source until the host is empty (0), a move failed for good or the timeout (1). */
export async function watchDrain(source: DrainSource, host: string, timeoutMs: number, io: DrainOutput, pollMs = DRAIN_POLL_MS): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const progress = new DrainProgress(host);
  for (;;) {
    const { vms, left } = await source.read();
    for (const line of progress.lines(vms)) io.out(line);
    const failed = await progress.failure(vms);
    if (failed) return (io.err(failed), 1);
    const still = vms.filter((vm) => vm.status?.nodeName === host);
    if (!still.length && !left.length) return (io.out(`hypervisor/${host} drained`), 0);
    if (Date.now() >= deadline) return (io.err(progress.timedOut(timeoutMs, still, left)), 1);
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
  }
}

/** The lines said so far (one per change of what a VM is doing) and the verdict on what is seen. */
export class DrainProgress {
  private readonly said = new Map<string, string>();
  private readonly seenOnHost = new Set<string>();

  constructor(private readonly host: string) {}

  /** The new lines for this look: each VM's move (Migrating with its figures), moved, or blocked (once). */
  lines(vms: readonly DrainedVm[]): string[] {
    const out: string[] = [];
    for (const vm of vms) {
      const said = this.sayOf(vm);
      if (said && this.said.get(vm.label) !== said.once) {
        out.push(`virtualmachine/${vm.label} ${said.line}`);
        this.said.set(vm.label, said.once);
      }
    }
    return out;
  }

  /** What to say of the VM now, and what makes it news (a blocked VM is said once: its message changes with every host's figures). */
  private sayOf(vm: DrainedVm): { line: string; once: string } | undefined {
    const scheduled = scheduledOf(vm.status);
    if (vm.status?.nodeName !== this.host) {
      if (!this.seenOnHost.has(vm.label)) return undefined;
      const line = `moved to ${vm.status?.nodeName}`;
      return { line, once: line };
    }
    this.seenOnHost.add(vm.label);
    if (!scheduled || scheduled.reason === 'Scheduled') return undefined;
    const line = `${scheduled.reason}: ${scheduled.message}`;
    return scheduled.reason === 'DrainBlocked' ? { line: `${line} (waiting for room until --timeout)`, once: 'DrainBlocked' } : { line, once: line };
  }

  /** The error that ends the drain now: a move that failed and will not be tried again, reported for the VM as declared now. */
  async failure(vms: readonly DrainedVm[]): Promise<string | undefined> {
    for (const vm of vms) {
      const scheduled = scheduledOf(vm.status);
      if (vm.status?.nodeName !== this.host || !scheduled || !failedForGood(vm.status, scheduled)) continue;
      if (await vm.current()) return `error: cannot drain hypervisor/${this.host}: virtualmachine/${vm.label}: ${scheduled.message}`;
    }
    return undefined;
  }

  timedOut(timeoutMs: number, still: readonly DrainedVm[], left: readonly string[]): string {
    const named = new Map<string, string>();
    for (const vm of still) {
      const scheduled = scheduledOf(vm.status);
      named.set(vm.label, scheduled?.reason === 'DrainBlocked' ? `${vm.label} (DrainBlocked: ${scheduled.message})` : vm.label);
    }
    for (const domain of left) if (![...named.keys()].some((l) => l.replace('/', '_') === domain)) named.set(domain, domain);
    return `error: hypervisor/${this.host} not drained after ${Math.round(timeoutMs / 1000)}s: still there: ${[...named.values()].join(', ')}`;
  }
}

function scheduledOf(status: VirtualMachineStatus | undefined): { reason: string; message: string } | undefined {
  return status?.conditions?.find((c) => c.type === 'Scheduled');
}

/**
 * A failed move the controller will not try again: a live migration that failed is tried again
 * cold once the guest is stopped, so that one counts only while the guest still runs.
 */
function failedForGood(status: VirtualMachineStatus, scheduled: { reason: string; message: string }): boolean {
  if (scheduled.reason !== 'MigrationFailed') return false;
  return !scheduled.message.startsWith('live migration') || ['Running', 'Paused', 'Migrating'].includes(status.printableStatus);
}
