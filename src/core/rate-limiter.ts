// client-go's default controller rate limiter: the slower of a per-item exponential backoff
// (with jitter, so that items failing together do not retry together) and an overall token bucket.

export interface RateLimiterOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Overall retries per second, and how many may go at once. */
  qps: number;
  burst: number;
  /** Fraction of the delay added at random, 0..1. */
  jitter: number;
  random?: () => number;
  now?: () => number;
}

export const DEFAULT_RATE_LIMITER: RateLimiterOptions = {
  baseDelayMs: 5,
  maxDelayMs: 300_000,
  qps: 50,
  burst: 500,
  jitter: 0.2,
};

export class RateLimiter {
  private readonly failures = new Map<string, number>();
  private tokens: number;
  private last: number;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly opts: RateLimiterOptions = DEFAULT_RATE_LIMITER) {
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.tokens = opts.burst;
    this.last = this.now();
  }

  /** The delay before `key` may be retried; counts one more failure for it. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const exp = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** n);
    const itemDelay = Math.min(this.opts.maxDelayMs, exp * (1 + this.opts.jitter * this.random()));
    return Math.max(itemDelay, this.bucketDelay());
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  private bucketDelay(): number {
    const now = this.now();
    this.tokens = Math.min(this.opts.burst, this.tokens + ((now - this.last) / 1000) * this.opts.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.opts.qps) * 1000;
  }
}
