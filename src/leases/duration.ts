// A lease's duration as users write it: Go/Kubernetes-style units, days added (Nimbus leased by
// the hour; a testbed slice is often leased for days). Pure.

/** A positive count without leading zeros, at most five digits (99999d: no overflow in ms). */
const N = '[1-9][0-9]{0,4}';

/**
 * Whole positive amounts of d, h, m, s, largest unit first, each at most once: 90m, 2h, 1h30m,
 * 3d, 1d12h, 45s. No zero amounts (write 1h, not 1h0m), so a zero lease cannot be written. The
 * CRD's spec.lease.duration pattern is this text (a test holds them equal); the API server uses
 * Go's RE2, so no look-ahead.
 */
export const LEASE_DURATION_PATTERN =
  `^(${N}d(${N}h)?(${N}m)?(${N}s)?|${N}h(${N}m)?(${N}s)?|${N}m(${N}s)?|${N}s)$`;

const PATTERN = new RegExp(LEASE_DURATION_PATTERN);

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

export const LEASE_DURATION_HELP = 'a lease duration is whole positive amounts of d, h, m or s, largest unit first (90m, 2h, 1h30m, 3d, 1d12h, 45s)';

export class LeaseDurationError extends Error {
  constructor(text: unknown) {
    super(`invalid lease duration ${JSON.stringify(text)}: ${LEASE_DURATION_HELP}`);
    this.name = 'LeaseDurationError';
  }
}

/** The duration in milliseconds; a LeaseDurationError for anything else. */
export function parseLeaseDuration(text: unknown): number {
  if (typeof text !== 'string' || !PATTERN.test(text)) throw new LeaseDurationError(text);
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9]+)([dhms])/g)) ms += Number(amount) * UNIT_MS[unit!]!;
  return ms;
}

/**
 * A span as kubectl prints ages (apimachinery's duration.HumanDuration): 45s, 3m20s, 72m, 1h12m,
 * 20h, 2d5h, 12d, 3y. Used for the EXPIRES column, which counts down instead of up.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** The EXPIRES cell: how long until `expiresAt`, 'expired' once passed, '<none>' without a lease. */
export function expiresCell(expiresAt: string | undefined, nowMs: number): string {
  if (!expiresAt) return '<none>';
  const left = Date.parse(expiresAt) - nowMs;
  if (Number.isNaN(left)) return '<unknown>';
  return left <= 0 ? 'expired' : humanDuration(left);
}
