// When a lease started and when it ends, from the declaration and what was remembered. Pure: the
// caller passes the controller's clock, the only clock a lease reads (a user's clock, or another
// host's, may differ from it).
//
// The rules (README "Leases"):
// - A lease starts when the controller first sees it declared (for a new VM: when it defines and
//   starts it, as Nimbus counted `--hours` from the run). It leases the slice, not CPU time: it
//   runs whether or not the guest is up.
// - Editing the duration starts the lease again from when the controller sees the edit: "2h"
//   means two hours from now. Writing the same span differently (90m for 1h30m) changes nothing.
// - A new value of the wimaxvm.io/renewedAt annotation starts it again from when the controller
//   sees it (the value is a request, as wimaxvm.io/restartedAt is; a timestamp by convention).
// - A start remembered in the future (the clock was set back) is taken as now: a lease never
//   runs longer than its duration by this controller's clock.
import { parseLeaseDuration } from './duration.js';

export const ON_EXPIRY = ['Stop', 'Delete', 'Save'] as const;
export type OnExpiry = (typeof ON_EXPIRY)[number];

export interface LeaseSpec {
  duration: string;
  onExpiry?: OnExpiry;
}

/** Set (to a timestamp) to start a lease again, as kubectl annotate does. */
export const RENEWED_AT_ANNOTATION = 'wimaxvm.io/renewedAt';

/** What is remembered of a lease: in status, and in the domain's metadata (for a lost state store). */
export interface LeaseRecord {
  /** When the lease (last) started, RFC 3339. */
  startedAt: string;
  /** startedAt plus the duration, RFC 3339. */
  expiresAt: string;
  /** The wimaxvm.io/renewedAt value last acted on. */
  renewedAt?: string;
}

export type LeaseStart = 'declared' | 'renewed' | 'edited' | 'clockWentBack';

export interface LeaseNow {
  record: LeaseRecord;
  durationMs: number;
  /** Why the lease (re)started in this call; undefined when the remembered one holds. */
  started?: LeaseStart;
}

/** What the reconcile knows of the lease. */
export interface LeaseInput {
  lease: LeaseSpec;
  /** The wimaxvm.io/renewedAt annotation's value, if any. */
  renewRequest?: string;
  remembered?: LeaseRecord;
  nowMs: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function recordFrom(startMs: number, durationMs: number, renewedAt: string | undefined): LeaseRecord {
  return { startedAt: iso(startMs), expiresAt: iso(startMs + durationMs), ...(renewedAt !== undefined ? { renewedAt } : {}) };
}

/** The span a record was started for, or NaN if it is unreadable. */
export function recordDurationMs(record: LeaseRecord): number {
  return Date.parse(record.expiresAt) - Date.parse(record.startedAt);
}

/** The lease in force now. Throws LeaseDurationError for a duration that does not parse. */
export function currentLease(input: LeaseInput): LeaseNow {
  const durationMs = parseLeaseDuration(input.lease.duration);
  const { remembered, renewRequest, nowMs } = input;
  const start = (started: LeaseStart): LeaseNow => ({ record: recordFrom(nowMs, durationMs, renewRequest), durationMs, started });
  // A renewal request already there when the lease is first seen is part of that start.
  if (!remembered || Number.isNaN(recordDurationMs(remembered))) return start('declared');
  if (renewRequest !== undefined && renewRequest !== remembered.renewedAt) return start('renewed');
  if (recordDurationMs(remembered) !== durationMs) return start('edited');
  if (Date.parse(remembered.startedAt) > nowMs) return start('clockWentBack');
  return { record: remembered, durationMs };
}

/** How long before expiry the warning is given: 10 % of the lease, at least 1 min, at most 15 min, never more than the lease. */
export function warningLeadMs(durationMs: number): number {
  return Math.min(durationMs, Math.max(60_000, Math.min(15 * 60_000, durationMs / 10)));
}

export type LeasePhase = 'Active' | 'Expiring' | 'Expired';

export function leasePhase(now: LeaseNow, nowMs: number): LeasePhase {
  const left = Date.parse(now.record.expiresAt) - nowMs;
  if (left <= 0) return 'Expired';
  return left <= warningLeadMs(now.durationMs) ? 'Expiring' : 'Active';
}

/** The record to remember: the one of status, else the domain's metadata (status was lost). */
export function rememberedLease(fromStatus: LeaseRecord | undefined, fromMetadata: LeaseRecord | undefined): LeaseRecord | undefined {
  return fromStatus ?? fromMetadata;
}
