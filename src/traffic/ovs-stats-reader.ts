// Reads the counters of the whole bridge: one `dump-flows` of wimaxvm's flows (by cookie) and one
// `meter-stats`, two processes per interval whatever the number of stations.
import { execFile } from 'node:child_process';
import { checkPortName } from '../adapters/ovs-flows.js';
import type { Sample } from './accounting.js';
import { parseFlowCounters, parseMeterCounters } from './ovs-stats.js';

/** Our flows only: 0x5758 in the cookie's top 16 bits (ovs-datapath.ts). */
const OUR_COOKIES = 'cookie=0x5758000000000000/0xffff000000000000';

export interface StatsReader {
  read(): Promise<Sample>;
}

export class OvsStatsReader implements StatsReader {
  spawns = 0;
  constructor(private readonly bridge: string, private readonly ofctl = 'ovs-ofctl') {
    checkPortName(bridge, 'bridge');
  }

  async read(): Promise<Sample> {
    const [flows, meters] = await Promise.all([
      this.run(['dump-flows', this.bridge, OUR_COOKIES]),
      this.run(['meter-stats', this.bridge]),
    ]);
    // The flows' time: rates are byte differences between two dumps over the time between them.
    return { atMs: flows.atMs, flows: parseFlowCounters(flows.out), meters: parseMeterCounters(meters.out) };
  }

  private run(args: string[]): Promise<{ out: string; atMs: number }> {
    this.spawns++;
    const spawnedMs = Date.now();
    return new Promise((resolve, reject) => {
      execFile(this.ofctl, ['-O', 'OpenFlow13', ...args], { timeout: 30_000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`ovs-ofctl ${args[0]} ${this.bridge}: ${String(stderr).trim() || err.message}`));
        // The counters were read somewhere between spawning and the answer: the middle is closest on average.
        else resolve({ out: stdout, atMs: Math.round((spawnedMs + Date.now()) / 2) });
      });
    });
  }
}
