// Whether a declaration itself says "remove my domain now": its lease, with onExpiry Delete, has
// expired by the controller's clock, and the lease remembered is the one in force (not renewed or
// edited since). The deletion gate asks this before it gives a lease's permit. Pure.
import type { VirtualMachine } from '../api/virtual-machine.js';
import { LeaseDurationError } from './duration.js';
import { currentLease, leasePhase, RENEWED_AT_ANNOTATION, type LeaseRecord } from './lease-clock.js';

export type ExpiryEvidence = { evidence: string } | { why: string };

export function leaseExpiryEvidence(vm: VirtualMachine | undefined, record: LeaseRecord, nowMs: number): ExpiryEvidence {
  if (!vm) return { why: 'it is not declared (a removed declaration is deleted on the source\'s evidence, not a lease\'s)' };
  const lease = vm.spec.lease;
  if (!lease) return { why: 'its declaration has no lease' };
  if ((lease.onExpiry ?? 'Stop') !== 'Delete') return { why: `its lease says onExpiry ${lease.onExpiry ?? 'Stop'}, not Delete` };
  const renewRequest = vm.metadata.annotations?.[RENEWED_AT_ANNOTATION];
  let now;
  try {
    now = currentLease({ lease, remembered: record, nowMs, ...(renewRequest !== undefined ? { renewRequest } : {}) });
  } catch (err) {
    if (err instanceof LeaseDurationError) return { why: err.message };
    throw err;
  }
  if (now.started) return { why: `its lease was ${now.started === 'renewed' ? 'renewed' : 'changed'} since it expired` };
  if (leasePhase(now, nowMs) !== 'Expired') return { why: `its lease runs until ${now.record.expiresAt}` };
  return { evidence: `its lease (${lease.duration}, onExpiry Delete) expired at ${now.record.expiresAt}` };
}
