// CLI start-up: `wimaxvm --help` and `wimaxvm get vms` (a few VMs, and 10k VMs), wall time from
// spawn to exit and peak RSS, against a plain `node -e 0` measured the same way in the same run.
// Each command runs several times per run; a run reports its median.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import type { Figure, Row } from '../lib/figure.js';
import { convergedState } from '../lib/build-state.js';
import { timeCommand } from '../lib/process-usage.js';
import { median } from '../lib/stats.js';

const CLI = join(PACKAGE_ROOT, 'bin', 'wimaxvm.js');
/** Peak RSS in MB (10^6 bytes), as the targets are written. */
const MB = 2 ** 20 / 1e6;

async function measure(args: string[], times: number): Promise<{ ms: number; mb: number }> {
  const ms: number[] = [];
  const mb: number[] = [];
  for (let i = 0; i < times; i++) {
    const r = await timeCommand(process.execPath, args);
    ms.push(r.ms);
    mb.push(r.peakMiB * MB);
  }
  return { ms: median(ms), mb: median(mb) };
}

export const figure: Figure = {
  name: 'cli',
  title: 'CLI start-up: time and peak RSS against plain node -e 0',
  async run({ quick }): Promise<Row[]> {
    const big = quick ? 1000 : 10_000;
    const times = quick ? 3 : 7;
    const small = await convergedState(10, 'few');
    const large = await convergedState(big, 'many');
    try {
      const node = await measure(['-e', '0'], times);
      const help = await measure([CLI, '--help'], times);
      const get = await measure([CLI, 'get', 'vms', '--dir', small.dir, '--state-dir', small.state], times);
      const getBig = await measure([CLI, 'get', 'vms', '--dir', large.dir, '--state-dir', large.state], times);
      const timeRow = (id: string, label: string, ms: number, limit: number): Row => ({
        id, label, value: ms, unit: 'ms', baseline: node.ms, baselineLabel: 'node -e 0',
        target: { on: 'value', op: '<=', limit, text: `≤ ${limit} ms` },
      });
      const rssRow = (id: string, label: string, mb: number): Row => ({
        id, label, value: mb, unit: 'MB', baseline: node.mb, baselineLabel: 'node -e 0',
        target: { on: 'value', op: '<=', limit: 60, text: '≤ 60 MB' },
      });
      return [
        timeRow('cli-help-time', '`wimaxvm --help`: time', help.ms, 250),
        rssRow('cli-help-rss', '`wimaxvm --help`: peak RSS', help.mb),
        timeRow('cli-get-time', '`wimaxvm get vms` (10 VMs): time', get.ms, 250),
        rssRow('cli-get-rss', '`wimaxvm get vms` (10 VMs): peak RSS', get.mb),
        { ...timeRow('cli-get-big-time', `\`wimaxvm get vms\` at ${big} VMs: time`, getBig.ms, 500), note: `median of ${times} runs of the command per run; the 10k table is printed to a pipe` },
      ];
    } finally {
      rmSync(small.base, { recursive: true, force: true });
      rmSync(large.base, { recursive: true, force: true });
    }
  },
};
