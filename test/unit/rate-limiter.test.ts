import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITER, RateLimiter, type RateLimiterOptions } from '../../src/core/rate-limiter.js';

function limiter(over: Partial<RateLimiterOptions> = {}, clock = { t: 0 }): RateLimiter {
  return new RateLimiter({ baseDelayMs: 5, maxDelayMs: 1_000, qps: 10, burst: 1_000_000, jitter: 0, random: () => 0, now: () => clock.t, ...over });
}

describe('per-item exponential backoff', () => {
  it.each([
    [1, [5]],
    [4, [5, 10, 20, 40]],
    [10, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]],
  ])('%d failures → %j', (n, delays) => {
    const rl = limiter();
    expect(Array.from({ length: n }, () => rl.when('k'))).toEqual(delays);
    expect(rl.numRequeues('k')).toBe(n);
  });

  it('never exceeds the maximum, even after very many failures', () => {
    const rl = limiter({ jitter: 1, random: () => 0.999 });
    let last = 0;
    for (let i = 0; i < 2_000; i++) last = rl.when('k');
    expect(last).toBe(1_000);
  });

  it('keys back off independently', () => {
    const rl = limiter();
    rl.when('a'); rl.when('a'); rl.when('a');
    expect(rl.when('b')).toBe(5);
    expect(rl.when('a')).toBe(40);
  });

  it('forget resets a key', () => {
    const rl = limiter();
    rl.when('a'); rl.when('a'); rl.when('b');
    rl.forget('a');
    expect(rl.numRequeues('a')).toBe(0);
    expect(rl.when('a')).toBe(5);
    expect(rl.numRequeues('b')).toBe(1);
  });
});

describe('jitter', () => {
  it.each([
    // [jitter, random, failures before, expected]
    [0.2, 0, 0, 5],
    [0.2, 0.5, 0, 5.5],
    [0.2, 0.999999, 0, 5 * (1 + 0.2 * 0.999999)],
    [0.2, 0.5, 3, 40 * 1.1],
    [1, 0.5, 2, 30],
    [0.5, 0.9, 9, 1_000], // 1000 × 1.45 is capped
  ])('jitter %d, random %d after %d failures → %d', (jitter, random, before, expected) => {
    const rl = limiter({ jitter, random: () => random });
    for (let i = 0; i < before; i++) rl.when('k');
    expect(rl.when('k')).toBeCloseTo(expected, 9);
  });

  it('stays within [d, d × (1 + jitter)] for any random value', () => {
    for (const r of [0, 0.1, 0.37, 0.5, 0.73, 0.99999]) {
      const rl = limiter({ jitter: 0.2, random: () => r });
      for (let n = 0; n < 12; n++) {
        const d = Math.min(1_000, 5 * 2 ** n);
        const got = rl.when('k');
        expect(got).toBeGreaterThanOrEqual(d);
        expect(got).toBeLessThanOrEqual(Math.min(1_000, d * 1.2));
      }
    }
  });
});

describe('token bucket', () => {
  it('costs nothing until the burst is spent, then 1/qps per retry', () => {
    const clock = { t: 0 };
    const rl = limiter({ burst: 3, qps: 10, baseDelayMs: 1 }, clock);
    const delays = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => rl.when(k));
    expect(delays).toEqual([1, 1, 1, 100, 200, 300]);
  });

  it('refills with time, up to the burst', () => {
    const clock = { t: 0 };
    const rl = limiter({ burst: 2, qps: 10, baseDelayMs: 1 }, clock);
    rl.when('a'); rl.when('b');
    expect(rl.when('c')).toBeCloseTo(100, 9);
    clock.t += 300; // +3 tokens: back to 2 (from -1)
    expect(rl.when('d')).toBe(1);
    clock.t += 10_000; // refill stops at the burst
    expect(rl.when('e')).toBe(1);
    expect(rl.when('f')).toBe(1);
    expect(rl.when('g')).toBeCloseTo(100, 9);
  });

  it('the slower of bucket and backoff wins', () => {
    const rl = limiter({ burst: 1, qps: 1, baseDelayMs: 5_000, maxDelayMs: 60_000 });
    expect(rl.when('a')).toBe(5_000); // bucket free, backoff 5 s
    expect(rl.when('b')).toBe(5_000); // bucket 1 s, backoff 5 s
    expect(rl.when('c')).toBe(5_000); // bucket 2 s
    for (let i = 0; i < 5; i++) rl.when(`x${i}`);
    expect(rl.when('y')).toBe(8_000); // bucket 8 s beats a first-failure backoff of 5 s
  });

  it('defaults to client-go-like values', () => {
    expect(DEFAULT_RATE_LIMITER).toEqual({ baseDelayMs: 5, maxDelayMs: 300_000, qps: 50, burst: 500, jitter: 0.2 });
  });
});
