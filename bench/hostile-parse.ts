// How long the parse of each hostile manifest blocks the caller, and the process's peak RSS.
// Each case runs in a fresh process (peak RSS is per process). Figures, not assertions: the
// machine is shared and noisy.
//
//   npx tsx bench/hostile-parse.ts            # every case
//   npx tsx bench/hostile-parse.ts CASE       # one case, in this process
import { execFileSync } from 'node:child_process';
import { hostileManifests } from '../test/helpers/hostile-manifests.js';
import { parseManifestsOffThread } from '../src/sources/manifest-parse-pool.js';

const cases = hostileManifests();
const only = process.argv[2];

async function measure(name: string): Promise<void> {
  const text = cases[name]!();
  const rssBefore = process.memoryUsage().rss;
  const start = process.hrtime.bigint();
  let maxGap = 0;
  let last = Date.now();
  // How long the event loop was kept from running while the parse went on.
  const ticker = setInterval(() => { const now = Date.now(); maxGap = Math.max(maxGap, now - last); last = now; }, 5);
  const { resources, errors } = await parseManifestsOffThread(text, `${name}.yaml`);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  clearInterval(ticker);
  maxGap = Math.max(maxGap, Date.now() - last);
  const peak = process.resourceUsage().maxRSS / 1024;
  const first = errors[0] ? `${errors[0].file}:${errors[0].line}: ${errors[0].message}`.slice(0, 90) : '';
  console.log(JSON.stringify({ case: name, bytes: text.length, ms: Math.round(ms), loopBlockedMs: maxGap, rssBeforeMiB: Math.round(rssBefore / 2 ** 20), peakRssMiB: Math.round(peak), resources: resources.length, errors: errors.length, first }));
}

if (only) {
  await measure(only);
  process.exit(0);
} else {
  for (const name of Object.keys(cases)) {
    try {
      execFileSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, name], { stdio: 'inherit', timeout: 600_000 });
    } catch (err) {
      console.log(JSON.stringify({ case: name, failed: String((err as Error).message).split('\n')[0] }));
    }
  }
}
