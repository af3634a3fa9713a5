// Controller over a real WorkQueue with a small fake Reconciler: one reconcile per key at a time,
// backoff on errors, requeueAfter, waits for the hypervisor, and a stop that drains in-flight work.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Controller } from '../../src/core/controller.js';
import { silentLogger } from '../../src/core/logger.js';
import { RateLimiter } from '../../src/core/rate-limiter.js';
import type { ReconcileResult, Reconciler } from '../../src/core/result.js';
import { WorkQueue } from '../../src/core/work-queue.js';
import { HypervisorUnavailableError } from '../../src/ports/hypervisor.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Lets pending promise callbacks and zero-delay timers run. */
const settle = () => sleep(5);

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

interface Call {
  key: string;
  at: number;
  /** queue.numRequeues(key) when the reconcile began: the backoff the key had accumulated. */
  requeues: number;
}

/** A reconciler whose behaviour per call is scripted by the test. */
class FakeReconciler implements Reconciler {
  readonly kind = 'Test';
  readonly calls: Call[] = [];
  readonly inFlight = new Map<string, number>();
  maxInFlightPerKey = 0;
  maxInFlightTotal = 0;
  finished = 0;
  queue: WorkQueue | undefined;
  /** What the n-th call (0-based, per key) does; default: returns {}. */
  script: (key: string, n: number) => Promise<ReconcileResult> | ReconcileResult = () => ({});

  async reconcile(key: string): Promise<ReconcileResult> {
    const n = this.calls.filter((c) => c.key === key).length;
    this.calls.push({ key, at: performance.now(), requeues: this.queue?.numRequeues(key) ?? -1 });
    const now = (this.inFlight.get(key) ?? 0) + 1;
    this.inFlight.set(key, now);
    this.maxInFlightPerKey = Math.max(this.maxInFlightPerKey, now);
    const total = [...this.inFlight.values()].reduce((a, b) => a + b, 0);
    this.maxInFlightTotal = Math.max(this.maxInFlightTotal, total);
    try {
      return await this.script(key, n);
    } finally {
      this.inFlight.set(key, this.inFlight.get(key)! - 1);
      this.finished++;
    }
  }

  callsOf(key: string): Call[] {
    return this.calls.filter((c) => c.key === key);
  }
}

function setup(opts: { workers?: number; baseDelayMs?: number; unavailableRetryMs?: number } = {}) {
  const limiter = new RateLimiter({ baseDelayMs: opts.baseDelayMs ?? 10, maxDelayMs: 10_000, qps: 1e6, burst: 1e6, jitter: 0 });
  const queue = new WorkQueue(limiter);
  const reconciler = new FakeReconciler();
  reconciler.queue = queue;
  const controller = new Controller({
    reconciler, workers: opts.workers ?? 8, logger: silentLogger, queue,
    ...(opts.unavailableRetryMs !== undefined ? { unavailableRetryMs: opts.unavailableRetryMs } : {}),
  });
  controllers.push(controller);
  return { controller, reconciler, queue };
}

const controllers: Controller[] = [];
afterEach(async () => {
  for (const c of controllers.splice(0)) c.queue.shutDown();
});

describe('Controller', () => {
  it('never runs two reconciles of one key at once, even with 8 workers and repeated adds while in flight', async () => {
    const { controller, reconciler } = setup({ workers: 8 });
    const gate = deferred();
    reconciler.script = async (key, n) => {
      if (key === 'a' && n === 0) await gate.promise;
      else await sleep(2);
      return {};
    };
    controller.start();
    for (const k of ['a', 'b', 'c', 'd']) controller.enqueue(k);
    await settle();
    expect(reconciler.inFlight.get('a')).toBe(1);

    for (let i = 0; i < 20; i++) {
      controller.enqueue('a');
      if (i % 5 === 0) await settle();
    }
    await settle();
    // Seven idle workers, 'a' queued again: still only the first reconcile of 'a' runs.
    expect(reconciler.callsOf('a')).toHaveLength(1);
    expect(reconciler.maxInFlightPerKey).toBe(1);

    gate.resolve();
    await controller.idle();
    // The adds while in flight collapse into exactly one more reconcile, after the first.
    expect(reconciler.callsOf('a')).toHaveLength(2);
    expect(reconciler.maxInFlightPerKey).toBe(1);
    // Other keys did run alongside: the workers are concurrent.
    expect(reconciler.maxInFlightTotal).toBeGreaterThan(1);
    for (const k of ['b', 'c', 'd']) expect(reconciler.callsOf(k)).toHaveLength(1);
  });

  it('many keys hammered by many adds: still one reconcile per key at a time, every key reconciled after its last add', async () => {
    const { controller, reconciler } = setup({ workers: 8 });
    reconciler.script = async () => {
      await sleep(1 + Math.floor(Math.random() * 3));
      return {};
    };
    controller.start();
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    const lastAdd = new Map<string, number>();
    for (let round = 0; round < 15; round++) {
      for (const k of keys) {
        if (Math.random() < 0.6) {
          controller.enqueue(k);
          lastAdd.set(k, performance.now());
        }
      }
      await sleep(2);
    }
    await controller.idle();
    expect(reconciler.maxInFlightPerKey).toBe(1);
    for (const [k, at] of lastAdd) {
      const last = reconciler.callsOf(k).at(-1)!;
      expect(last.at).toBeGreaterThanOrEqual(at);
    }
  });

  it('requeues a failing key with growing backoff, and forgets it on success', async () => {
    const { controller, reconciler, queue } = setup({ workers: 2, baseDelayMs: 10 });
    reconciler.script = (_key, n) => {
      if (n < 3) throw new Error(`failure ${n}`);
      return {};
    };
    controller.start();
    controller.enqueue('a');
    await vi.waitFor(() => expect(reconciler.finished).toBe(4), { timeout: 2_000, interval: 5 });

    const calls = reconciler.callsOf('a');
    expect(calls.map((c) => c.requeues)).toEqual([0, 1, 2, 3]);
    const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
    // base 10 ms doubled each time (no jitter): 10, 20, 40 (libuv's cached loop time can make a
    // timer look a few ms early against performance.now()).
    expect(gaps[0]).toBeGreaterThanOrEqual(7);
    expect(gaps[1]).toBeGreaterThanOrEqual(17);
    expect(gaps[2]).toBeGreaterThanOrEqual(37);
    expect(queue.numRequeues('a')).toBe(0);
    expect(controller.stats.errors).toBe(3);
    expect(controller.stats.reconciles).toBe(4);

    // Success requeues nothing.
    await sleep(20);
    expect(reconciler.callsOf('a')).toHaveLength(4);
  });

  it('honors requeueAfterMs from a successful reconcile without growing backoff', async () => {
    const { controller, reconciler, queue } = setup({ workers: 4 });
    reconciler.script = (_key, n) => (n === 0 ? { requeueAfterMs: 100 } : {});
    controller.start();
    controller.enqueue('a');
    await settle();
    expect(reconciler.callsOf('a')).toHaveLength(1);
    await controller.idle(); // delayed requeues do not count as work
    await sleep(40);
    expect(reconciler.callsOf('a')).toHaveLength(1);

    await vi.waitFor(() => expect(reconciler.callsOf('a')).toHaveLength(2), { timeout: 1_000, interval: 5 });
    const [first, second] = reconciler.callsOf('a');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(97);
    expect(second!.requeues).toBe(0);
    expect(queue.numRequeues('a')).toBe(0);
    expect(controller.stats.requeues).toBe(1);
    expect(controller.stats.errors).toBe(0);

    await sleep(80);
    expect(reconciler.callsOf('a')).toHaveLength(2);
  });

  it('an add during a requeueAfter wait reconciles at once; the earlier delayed add still fires once', async () => {
    const { controller, reconciler } = setup({ workers: 2 });
    // The delay is long enough that the second add and its reconcile come before it even on a
    // loaded machine (with 80 ms, a slow settle() let the delayed add fire first).
    reconciler.script = (_key, n) => (n === 0 ? { requeueAfterMs: 1_000 } : {});
    controller.start();
    controller.enqueue('a');
    await vi.waitFor(() => expect(reconciler.callsOf('a')).toHaveLength(1), { timeout: 10_000, interval: 5 });
    controller.enqueue('a');
    await vi.waitFor(() => expect(reconciler.callsOf('a')).toHaveLength(2), { timeout: 10_000, interval: 5 });
    await vi.waitFor(() => expect(reconciler.callsOf('a')).toHaveLength(3), { timeout: 10_000, interval: 5 });
    const [first, , third] = reconciler.callsOf('a');
    expect(third!.at - first!.at).toBeGreaterThanOrEqual(997);
    await sleep(100);
    expect(reconciler.callsOf('a')).toHaveLength(3);
  });

  it('retries after HypervisorUnavailableError without growing the backoff', async () => {
    const { controller, reconciler, queue } = setup({ workers: 2, baseDelayMs: 10, unavailableRetryMs: 20 });
    reconciler.script = (_key, n) => {
      if (n < 2) throw new Error('ordinary failure');
      if (n < 5) throw new HypervisorUnavailableError('not connected to qemu:///system');
      return {};
    };
    controller.start();
    controller.enqueue('a');
    await vi.waitFor(() => expect(reconciler.finished).toBe(6), { timeout: 2_000, interval: 5 });

    const calls = reconciler.callsOf('a');
    // Two ordinary failures grow the backoff to 2; the unavailable ones leave it there.
    expect(calls.map((c) => c.requeues)).toEqual([0, 1, 2, 2, 2, 2]);
    const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
    for (const gap of gaps.slice(2)) expect(gap).toBeGreaterThanOrEqual(17); // unavailableRetryMs
    expect(queue.numRequeues('a')).toBe(0);
    expect(controller.stats.errors).toBe(5);
  });

  it('stop() waits for in-flight reconciles and takes no key afterwards', async () => {
    const { controller, reconciler } = setup({ workers: 4 });
    const gate = deferred();
    reconciler.script = async () => {
      await gate.promise;
      return { requeueAfterMs: 10 };
    };
    controller.start();
    controller.enqueue('a');
    controller.enqueue('b');
    await settle();
    expect(reconciler.calls).toHaveLength(2);

    let stopped = false;
    const stopping = controller.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).toBe(false);
    expect(reconciler.finished).toBe(0);

    gate.resolve();
    await stopping;
    expect(stopped).toBe(true);
    expect(reconciler.finished).toBe(2);

    controller.enqueue('c');
    await sleep(30); // the requeueAfter of a and b would have fired by now
    expect(reconciler.calls.map((c) => c.key).sort()).toEqual(['a', 'b']);
  });

  // Regression: reconciles that waited on no I/O ran back to back as microtasks, and nothing else
  // (file events, HTTP, libvirt events) ran until the queue was empty.
  it('lets the event loop turn during a long run of reconciles that wait on nothing', async () => {
    const { controller, reconciler } = setup({ workers: 8 });
    let done = 0;
    reconciler.script = async () => {
      const until = performance.now() + 1; // ~1 ms of work, no I/O
      while (performance.now() < until);
      done++;
      return {};
    };
    const keys = Array.from({ length: 400 }, (_, i) => `k-${i}`);
    for (const key of keys) controller.enqueue(key);
    let doneWhenTheLoopTurned: number | undefined;
    setImmediate(() => (doneWhenTheLoopTurned = done));
    controller.start();
    await controller.idle();
    expect(done).toBe(400);
    // A 10 ms budget: the loop turned after a few dozen of the 400 (without the yield: after all of them).
    expect(doneWhenTheLoopTurned).toBeLessThan(400);
  });

  it('stop() with an empty queue resolves promptly', async () => {
    const { controller } = setup({ workers: 8 });
    controller.start();
    await settle();
    await expect(Promise.race([controller.stop().then(() => 'stopped'), sleep(100).then(() => 'hung')])).resolves.toBe('stopped');
  });

  // Regression: WorkQueue.get() handed out keys still queued after shutDown(), so stop() ran every
  // queued reconcile before resolving (contrary to "Stops taking keys").
  it('stop() does not start reconciles of keys that were only queued', async () => {
    const { controller, reconciler } = setup({ workers: 1 });
    const gate = deferred();
    reconciler.script = async (key) => {
      if (key === 'a') await gate.promise;
      return {};
    };
    controller.start();
    controller.enqueue('a');
    await settle();
    controller.enqueue('b');
    controller.enqueue('c');
    expect(reconciler.calls.map((c) => c.key)).toEqual(['a']);

    const stopping = controller.stop();
    gate.resolve();
    await stopping;
    expect(reconciler.calls.map((c) => c.key)).toEqual(['a']);
  });
});
