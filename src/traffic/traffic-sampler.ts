// Samples the switch's counters at a fixed interval and publishes each snapshot to the feed.
// A failed read (Open vSwitch restarting) skips the interval: the next good one restarts rates
// where flows were re-added, as the accountant sees them.
import { errorMessage, type Logger } from '../core/logger.js';
import { TrafficAccountant, type Naming } from './accounting.js';
import type { StatsReader } from './ovs-stats-reader.js';
import { TrafficBroadcast, type TrafficSnapshot } from './traffic-feed.js';

export interface TrafficSamplerOptions {
  reader: StatsReader;
  naming: Naming;
  intervalMs: number;
  logger: Logger;
  /** Each sample's read time and outcome, for /metrics. */
  onSample?: (seconds: number, ok: boolean) => void;
  /** Why the switch is away, while it is (its watch says so once, in its own warning). */
  switchDown?: () => string | undefined;
}

export class TrafficSampler extends TrafficBroadcast {
  private readonly accountant = new TrafficAccountant();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Reads failed in a row; the warning is given once per run of them. */
  private failures = 0;
  private warned = false;

  constructor(private readonly opts: TrafficSamplerOptions) {
    super();
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One sample now (the timer's, or a test's); one at a time: a slow dump is not overlapped. */
  sample(): Promise<void> {
    this.running ??= this.sampleOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sampleOnce(): Promise<void> {
    const started = performance.now();
    try {
      const sample = await this.opts.reader.read();
      this.opts.onSample?.((performance.now() - started) / 1000, true);
      if (this.warned) this.opts.logger.info('reading traffic counters works again');
      this.failures = 0;
      this.warned = false;
      const { stations, slices } = this.accountant.step(sample, this.opts.naming);
      const snapshot: TrafficSnapshot = {
        at: new Date(sample.atMs).toISOString(), intervalMs: this.opts.intervalMs,
        stations: stations.map(({ mac: _mac, ...s }) => s), slices,
      };
      this.publish(snapshot);
    } catch (err) {
      this.opts.onSample?.((performance.now() - started) / 1000, false);
      // A switch restarting is its watch's news, not ours: warn only when reads keep failing
      // (twice in a row, so the watch has had an interval to notice) while the switch is there.
      this.failures++;
      const quiet = this.warned || this.failures < 2 || this.opts.switchDown?.() !== undefined;
      if (quiet) this.opts.logger.debug('cannot read traffic counters; retrying at the next interval', { error: errorMessage(err) });
      else {
        this.opts.logger.warn('cannot read traffic counters; retrying at the next interval', { error: errorMessage(err) });
        this.warned = true;
      }
    }
  }
}
