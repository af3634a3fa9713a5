// Issue 8 (7): the informer's "connect" at every attempt reset the delay, so an outage meant a
// retry every 500 ms forever. The delay now grows until a watch proves healthy.
import { describe, expect, it } from 'vitest';
import { WatchBackoff } from '../../src/core/watch-backoff.js';

const clock = () => {
  let t = 0;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
};

describe('WatchBackoff', () => {
  it('doubles with every failed attempt up to the cap, whatever "connect" says', () => {
    const c = clock();
    const b = new WatchBackoff({ baseMs: 500, maxMs: 30_000, jitter: 0, now: c.now });
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      b.attempt(); // the library's "connect": not a sign of health
      c.advance(10);
      const d = b.failed();
      delays.push(d);
      c.advance(d);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it.each([
    ['no jitter', 0, 4000],
    ['the most jitter', 0.999, 4000 * 1.2],
  ])('jitter adds up to 20%% (%s)', (_label, random, expected) => {
    const b = new WatchBackoff({ baseMs: 500, jitter: 0.2, random: () => random, now: () => 0 });
    b.failed(); b.failed(); b.failed();
    expect(b.failed()).toBeCloseTo(expected, -1);
  });

  it('never exceeds the cap, jitter included', () => {
    const b = new WatchBackoff({ baseMs: 500, maxMs: 30_000, random: () => 0.999, now: () => 0 });
    for (let i = 0; i < 40; i++) expect(b.failed()).toBeLessThanOrEqual(30_000);
  });

  it('goes back to the base after an event was delivered', () => {
    const b = new WatchBackoff({ baseMs: 500, jitter: 0, now: () => 0 });
    b.failed(); b.failed(); b.failed();
    b.delivered();
    expect(b.failed()).toBe(500);
  });

  it('goes back to the base when the failed watch had stayed up long enough', () => {
    const c = clock();
    const b = new WatchBackoff({ baseMs: 500, jitter: 0, healthyMs: 30_000, now: c.now });
    b.failed(); b.failed(); b.failed();
    b.attempt();
    c.advance(29_999);
    expect(b.failed()).toBe(4000);
    b.attempt();
    c.advance(30_000);
    expect(b.failed()).toBe(500);
  });
});
