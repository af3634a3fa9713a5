import { afterEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../src/core/rate-limiter.js';
import { WorkQueue } from '../../src/core/work-queue.js';

/** Whether a promise has settled, after letting pending callbacks run. */
async function settled<T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> {
  let state: { done: boolean; value?: T } = { done: false };
  void p.then((value) => { state = { done: true, value }; });
  await new Promise((r) => setImmediate(r));
  return state;
}

async function drainNow(q: WorkQueue): Promise<string[]> {
  const out: string[] = [];
  while (q.length > 0) {
    const k = (await q.get())!;
    out.push(k);
    q.done(k);
  }
  return out;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('dedupe and order', () => {
  it.each<[string, string[], string[]]>([
    ['same key three times', ['a', 'a', 'a'], ['a']],
    ['FIFO', ['a', 'b', 'c'], ['a', 'b', 'c']],
    ['duplicates keep the first position', ['a', 'b', 'a', 'c', 'b'], ['a', 'b', 'c']],
  ])('%s', async (_label, adds, expected) => {
    const q = new WorkQueue();
    for (const k of adds) q.add(k);
    expect(q.length).toBe(expected.length);
    expect(await drainNow(q)).toEqual(expected);
    expect(q.length).toBe(0);
  });

  it('keeps FIFO order over many keys (past the internal compaction)', async () => {
    const q = new WorkQueue();
    const keys = Array.from({ length: 3000 }, (_, i) => `k${i}`);
    const got: string[] = [];
    for (const k of keys.slice(0, 2000)) q.add(k);
    for (let i = 0; i < 1500; i++) { const k = (await q.get())!; got.push(k); q.done(k); }
    for (const k of keys.slice(2000)) q.add(k);
    got.push(...(await drainNow(q)));
    expect(got).toEqual(keys);
  });

  it('a waiting get() receives the next add', async () => {
    const q = new WorkQueue();
    const pending = q.get();
    expect((await settled(pending)).done).toBe(false);
    q.add('x');
    expect(await pending).toBe('x');
    expect(q.inFlight).toBe(1);
    expect(q.length).toBe(0);
  });

  it('waiting getters are served in order', async () => {
    const q = new WorkQueue();
    const g1 = q.get();
    const g2 = q.get();
    q.add('a');
    q.add('b');
    expect([await g1, await g2]).toEqual(['a', 'b']);
  });
});

describe('one in flight per key', () => {
  it('a key added while processing waits for done(), then comes back exactly once', async () => {
    const q = new WorkQueue();
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('b');
    const next = q.get();
    expect((await settled(next)).done).toBe(false); // 'a' is not handed to a second worker
    q.done('a');
    expect(await next).toBe('a');
    q.done('a');
    q.done('b');
    expect(q.length).toBe(0);
    expect(q.inFlight).toBe(0);
  });

  it('done() without a new add does not requeue', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = (await q.get())!;
    q.done(k);
    expect(q.length).toBe(0);
    expect((await settled(q.get())).done).toBe(false);
  });
});

describe('addAfter', () => {
  it('adds after the delay', async () => {
    vi.useFakeTimers();
    const q = new WorkQueue();
    q.addAfter('a', 100);
    expect(q.delayed).toBe(1);
    vi.advanceTimersByTime(99);
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(1);
    expect(q.length).toBe(1);
    expect(q.delayed).toBe(0);
  });

  it.each<[string, number[], number]>([
    ['a later add does not postpone', [50, 200], 50],
    ['an earlier add wins', [200, 50], 50],
    ['equal times are one add', [80, 80], 80],
  ])('%s', async (_label, delays, fireAt) => {
    vi.useFakeTimers();
    const q = new WorkQueue();
    for (const d of delays) q.addAfter('a', d);
    expect(q.delayed).toBe(1);
    vi.advanceTimersByTime(fireAt - 1);
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(1);
    expect(q.length).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(q.length).toBe(1);
    expect(await drainNow(q)).toEqual(['a']);
    vi.advanceTimersByTime(1_000);
    expect(q.length).toBe(0);
  });

  it.each([[0], [-5]])('delay %d adds at once', (d) => {
    const q = new WorkQueue();
    q.addAfter('a', d);
    expect(q.length).toBe(1);
    expect(q.delayed).toBe(0);
  });

  it('addRateLimited uses the limiter and forget resets it', async () => {
    vi.useFakeTimers();
    const q = new WorkQueue(new RateLimiter({ baseDelayMs: 10, maxDelayMs: 1_000, qps: 100, burst: 100, jitter: 0, random: () => 0 }));
    q.addRateLimited('a');
    q.addRateLimited('a'); // 20 ms, later than the pending 10 ms: ignored
    expect(q.numRequeues('a')).toBe(2);
    vi.advanceTimersByTime(10);
    expect(q.length).toBe(1);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });
});

describe('shutdown', () => {
  it('resolves pending get() with undefined and refuses new adds', async () => {
    const q = new WorkQueue();
    const g1 = q.get();
    const g2 = q.get();
    q.shutDown();
    expect(await g1).toBeUndefined();
    expect(await g2).toBeUndefined();
    q.add('a');
    q.addAfter('b', 10);
    expect(q.length).toBe(0);
    expect(q.delayed).toBe(0);
    expect(await q.get()).toBeUndefined();
  });

  it('cancels delayed adds', () => {
    vi.useFakeTimers();
    const q = new WorkQueue();
    q.addAfter('a', 10);
    q.shutDown();
    expect(q.delayed).toBe(0);
    vi.advanceTimersByTime(100);
    expect(q.length).toBe(0);
  });

  it('drained() waits for keys in flight', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    const a = (await q.get())!;
    const b = (await q.get())!;
    q.shutDown();
    const drained = q.drained();
    expect((await settled(drained)).done).toBe(false);
    q.done(a);
    expect((await settled(drained)).done).toBe(false);
    q.done(b);
    expect((await settled(drained)).done).toBe(true);
  });

  it('drained() waits for shutDown()', async () => {
    const q = new WorkQueue();
    const drained = q.drained();
    expect((await settled(drained)).done).toBe(false);
    q.shutDown();
    expect((await settled(drained)).done).toBe(true);
  });
});
