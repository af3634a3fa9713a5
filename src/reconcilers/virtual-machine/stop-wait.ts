// What a graceful stop is waiting for, in words: a guest without an OS never acts on ACPI, and
// the controller then waits the whole shutdown timeout before it powers the guest off. Pure.
import type { DomainState } from '../../ports/hypervisor.js';
import type { Stopping } from './plan.js';

export interface StopWait {
  /** The guest is still running after the request: said once in the log, too. */
  ignored: boolean;
  message: string;
}

/** 30000 → "30s", 1500 → "1500ms". */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * The wait, if the controller is waiting for the guest to shut down before forcing it.
 * `justAsked`: the ACPI request went out in this very reconcile (the guest had no time to act).
 */
export function describeStopWait(
  domainName: string, stopping: Stopping | undefined, state: DomainState | undefined, justAsked: boolean, shutdownTimeoutMs: number,
): StopWait | undefined {
  if (!stopping || stopping.intent === 'withdrawn' || state === undefined || state === 'shutoff') return undefined;
  const deadline = new Date(stopping.sinceMs + shutdownTimeoutMs).toISOString();
  const upTo = `up to ${formatDuration(shutdownTimeoutMs)}`;
  if (state === 'shutdown') return { ignored: false, message: `${domainName} is shutting down; will power off at ${deadline} if it has not by then` };
  if (justAsked) return { ignored: false, message: `asked ${domainName} to shut down (ACPI); waiting ${upTo}, will power off at ${deadline} if it has not by then` };
  return { ignored: true, message: `waiting ${upTo} for ${domainName} to shut down (guest has not acted on ACPI shutdown); will power off at ${deadline}` };
}
