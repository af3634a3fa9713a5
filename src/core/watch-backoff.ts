// Retry delays for one watch (a Kubernetes informer, an Open vSwitch monitor).
// @kubernetes/client-node announces "connect" at every attempt, before it knows whether the
// attempt works, so resetting there kept the delay at its base forever (116 retries in a 20 s
// outage). Here the delay doubles with each failure, with jitter, up to a cap, and goes back to
// the base only once a watch proved healthy: it delivered an event, or it stayed up for
// `healthyMs` before failing.

export interface WatchBackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** A watch that failed after being up this long counts as healthy. */
  healthyMs?: number;
  /** Fraction of the delay added at random, so informers failing together do not retry together. */
  jitter?: number;
  random?: () => number;
  now?: () => number;
}

export class WatchBackoff {
  private failures = 0;
  private attemptAt: number;
  private readonly base: number;
  private readonly max: number;
  private readonly healthyMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(opts: WatchBackoffOptions = {}) {
    this.base = opts.baseMs ?? 500;
    this.max = opts.maxMs ?? 30_000;
    this.healthyMs = opts.healthyMs ?? 30_000;
    this.jitter = opts.jitter ?? 0.2;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.attemptAt = this.now();
  }

  /** An attempt (list and watch) begins. */
  attempt(): void {
    this.attemptAt = this.now();
  }

  /** The watch delivered an event: it works. */
  delivered(): void {
    this.failures = 0;
  }

  /** The attempt failed: how long to wait before the next one. */
  failed(): number {
    if (this.now() - this.attemptAt >= this.healthyMs) this.failures = 0;
    const exp = Math.min(this.max, this.base * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return Math.round(Math.min(this.max, exp * (1 + this.jitter * this.random())));
  }

  /** Failures since the watch last worked. */
  get failureCount(): number {
    return this.failures;
  }
}
