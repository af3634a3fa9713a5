// The sampler's failed reads: a switch restarting is its watch's news (one warning there), so the
// sampler warns only when reads keep failing while the switch is there, once per run of failures.
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/logger.js';
import type { Sample } from '../../src/traffic/accounting.js';
import { TrafficSampler } from '../../src/traffic/traffic-sampler.js';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  const logger = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

/** A reader that fails while `broken` is set. */
function reader() {
  const r = {
    broken: false,
    async read(): Promise<Sample> {
      if (r.broken) throw new Error('ovs-ofctl: br0 is not a bridge or a socket');
      return { atMs: Date.now(), flows: [], meters: new Map() };
    },
  };
  return r;
}

const naming = { station: () => undefined, slice: () => undefined };

describe('TrafficSampler failed reads', () => {
  it('says nothing while the switch watch reports the switch away, however long', async () => {
    const logger = recordingLogger();
    const r = reader();
    const sampler = new TrafficSampler({ reader: r, naming, intervalMs: 1000, logger, switchDown: () => 'ovs-vswitchd is not reachable' });
    r.broken = true;
    for (let i = 0; i < 5; i++) await sampler.sample();
    r.broken = false;
    await sampler.sample();
    expect(logger.lines.filter((l) => !l.startsWith('debug'))).toEqual([]);
  });

  it('warns once when reads keep failing with the switch there, from the second failure, and says when they work again', async () => {
    const logger = recordingLogger();
    const r = reader();
    const sampler = new TrafficSampler({ reader: r, naming, intervalMs: 1000, logger, switchDown: () => undefined });
    r.broken = true;
    await sampler.sample();
    expect(logger.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
    for (let i = 0; i < 3; i++) await sampler.sample();
    expect(logger.lines.filter((l) => l.startsWith('warn'))).toEqual(['warn cannot read traffic counters; retrying at the next interval']);
    r.broken = false;
    await sampler.sample();
    expect(logger.lines.at(-1)).toBe('info reading traffic counters works again');
    expect(sampler.latest()).toBeDefined();
  });
});
