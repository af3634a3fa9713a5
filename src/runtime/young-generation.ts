// The main thread's young generation (V8's new space) doubles from 1 MiB a semi-space up to
// --max-semi-space-size (16 MiB here): 32 MiB of RSS after one burst of work (a start, a resync)
// and never given back, while a quiet controller holds 1-2 MiB of young objects. The maximum is
// read only from node's command line, but the growth factor is read at each growth: at 1 the new
// space cannot grow. Growth is then allowed only inside one forced scavenge at a time, after a
// collection, so that it stops exactly at the cap (V8 still decides whether to grow: it does when
// more than the new space's size survived since the last growth). Every new isolate (a worker
// thread) sets the factor back to 2: it is set to 1 again once the worker runs, and after every
// collection. Figures: bench controller-rss, resync.
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Worker } from 'node:worker_threads';

/** Semi-space size (MiB) the main thread's young generation may reach (node's default: 16). */
export const YOUNG_SEMI_SPACE_MIB = 4;

/** Both semi-spaces of the new space, in bytes. */
export function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

type Collect = (options: { type: 'minor' }) => void;

/** A collection V8 started, not a forced one. */
function byV8(entry: PerformanceEntry): boolean {
  const flags = (entry as PerformanceEntry & { detail?: { flags?: number } }).detail?.flags ?? 0;
  return (flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) === 0;
}

/** V8's `gc`, without --expose-gc on the command line (the flag applies to contexts made after it). */
function collector(): Collect {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as Collect;
}

/**
 * Caps the main thread's young generation at `semiSpaceMiB` a semi-space for the rest of the
 * process (V8's flags are per process: worker threads started later grow no further than their
 * first size either). Returns a stop of the watching, for tests.
 */
export function capYoungGeneration(semiSpaceMiB = YOUNG_SEMI_SPACE_MIB): () => void {
  const cap = 2 * semiSpaceMiB * 2 ** 20;
  const stopGrowth = () => setFlagsFromString('--semi-space-growth-factor=1');
  stopGrowth();
  const collect = collector();
  // After V8's own collections (delivered a turn later, never inside one; not after ours, which
  // would force one after another): one doubling, if V8 wants it. Kept on: V8 may shrink it again.
  const observer = new PerformanceObserver((list) => {
    stopGrowth();
    if (!list.getEntries().some(byV8) || newSpaceBytes() * 2 > cap) return;
    setFlagsFromString('--semi-space-growth-factor=2');
    try {
      collect({ type: 'minor' });
    } finally {
      stopGrowth();
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const onWorker = (worker: Worker) => worker.once('online', stopGrowth);
  process.on('worker', onWorker);
  return () => {
    observer.disconnect();
    process.off('worker', onWorker);
  };
}
