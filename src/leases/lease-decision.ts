// What a VM's lease asks of this reconcile: the record to remember, what expiry overrides of the
// declared power, the events due (each once: the Lease condition remembers which were given),
// the Lease condition, and when to look again. Pure: no I/O, the clock is passed in.
import type { Condition } from '../api/meta.js';
import { humanDuration, LeaseDurationError } from './duration.js';
import { currentLease, leasePhase, warningLeadMs, type LeaseRecord, type LeaseSpec, type OnExpiry } from './lease-clock.js';

/** The condition a lease owns. True while it is in force (Active, Expiring), False once Expired (or InvalidLease). */
export const LEASE_CONDITION = 'Lease';

/** Longest wait before looking at a lease again (a timer is cheap; a very long one overflows). */
export const MAX_LEASE_WAIT_MS = 60 * 60_000;

/**
 * What expiry makes of the declared power: Stop stops the guest as runStrategy Halted does, Save
 * is a managed save (spec.powerState Saved), Remove takes away the domain and its overlays
 * (with the deletion gate's permit) while the declaration stays.
 */
export type ExpiryPower = 'Halted' | 'Saved' | 'Removed';

export interface LeaseEvent {
  type: 'Normal' | 'Warning';
  reason: 'LeaseStarted' | 'LeaseRenewed' | 'LeaseExpiring' | 'LeaseExpired' | 'LeaseInvalid';
  message: string;
}

export interface LeaseDecision {
  /** What to remember (status and domain metadata); undefined when there is no lease (forget it). */
  record?: LeaseRecord;
  /** Set once the lease has expired: the power expiry asks for instead of the declared one. */
  expiry?: { power: ExpiryPower; onExpiry: OnExpiry };
  events: LeaseEvent[];
  /** The Lease condition; undefined: no lease, remove the condition. */
  condition?: Omit<Condition, 'lastTransitionTime'>;
  /** When the lease next needs a look (the warning, or expiry). */
  requeueAfterMs?: number;
}

export interface LeaseDecisionInput {
  lease?: LeaseSpec;
  renewRequest?: string;
  remembered?: LeaseRecord;
  /** The Lease condition of the last status: which of the events were given already. */
  previous?: { reason: string };
  generation: number;
  nowMs: number;
}

const POWER: Record<OnExpiry, ExpiryPower> = { Stop: 'Halted', Save: 'Saved', Delete: 'Removed' };
const DOING: Record<OnExpiry, string> = { Stop: 'the guest is stopped', Save: "the guest's memory is saved to disk and it is stopped", Delete: 'the domain and its disk overlays are removed (the declaration stays)' };
const RENEW_HINT = 'edit spec.lease.duration or set the wimaxvm.io/renewedAt annotation to renew it';

export function decideLease(input: LeaseDecisionInput): LeaseDecision {
  const { lease, nowMs, generation, previous } = input;
  if (!lease) return { events: [] };
  const onExpiry = lease.onExpiry ?? 'Stop';
  let now;
  try {
    now = currentLease({ lease, nowMs, ...(input.renewRequest !== undefined ? { renewRequest: input.renewRequest } : {}), ...(input.remembered ? { remembered: input.remembered } : {}) });
  } catch (err) {
    if (!(err instanceof LeaseDurationError)) throw err;
    // Bad input never stops or deletes a VM: the lease is not applied, and the condition says why.
    const events: LeaseEvent[] = previous?.reason === 'InvalidLease' ? [] : [{ type: 'Warning', reason: 'LeaseInvalid', message: `${err.message}; the lease is not applied` }];
    return { events, condition: { type: LEASE_CONDITION, status: 'False', reason: 'InvalidLease', message: `${err.message}; the lease is not applied`, observedGeneration: generation } };
  }
  const { record, durationMs, started } = now;
  const expiresMs = Date.parse(record.expiresAt);
  const phase = leasePhase(now, nowMs);
  const span = humanDuration(durationMs);
  const events: LeaseEvent[] = [];
  if (started === 'declared') events.push({ type: 'Normal', reason: 'LeaseStarted', message: `lease of ${span} until ${record.expiresAt}; then ${DOING[onExpiry]}` });
  if (started === 'renewed' || started === 'edited') events.push({ type: 'Normal', reason: 'LeaseRenewed', message: `lease ${started === 'edited' ? 'changed to' : 'renewed for'} ${span}, until ${record.expiresAt}` });
  // A new start forgets the warnings of the lease before it.
  const given = started ? undefined : previous?.reason;

  if (phase === 'Expired') {
    if (given !== 'Expired') events.push({ type: 'Warning', reason: 'LeaseExpired', message: `lease of ${span} expired at ${record.expiresAt}: ${DOING[onExpiry]}; ${RENEW_HINT}` });
    return {
      record, events, expiry: { power: POWER[onExpiry], onExpiry },
      condition: { type: LEASE_CONDITION, status: 'False', reason: 'Expired', message: `expired at ${record.expiresAt} (onExpiry ${onExpiry}); ${RENEW_HINT}`, observedGeneration: generation },
    };
  }
  const left = expiresMs - nowMs;
  if (phase === 'Expiring') {
    if (given !== 'Expiring') events.push({ type: 'Warning', reason: 'LeaseExpiring', message: `lease expires at ${record.expiresAt}, in ${humanDuration(left)}; then ${DOING[onExpiry]}; ${RENEW_HINT}` });
    return {
      record, events, requeueAfterMs: Math.min(left, MAX_LEASE_WAIT_MS),
      condition: { type: LEASE_CONDITION, status: 'True', reason: 'Expiring', message: `expires at ${record.expiresAt} (onExpiry ${onExpiry})`, observedGeneration: generation },
    };
  }
  // Wake at the warning time; the expiring reconcile then waits for expiry itself.
  const untilWarning = left - warningLeadMs(durationMs);
  return {
    record, events, requeueAfterMs: Math.min(Math.max(untilWarning, 1), MAX_LEASE_WAIT_MS),
    condition: { type: LEASE_CONDITION, status: 'True', reason: 'Active', message: `expires at ${record.expiresAt} (onExpiry ${onExpiry})`, observedGeneration: generation },
  };
}
