// Where the controller's memory goes (issue 12, row 4): converges N VMs (the controller a child
// process, as in the controller-rss figure), then prints its RSS, V8's heap spaces (its /metrics)
// and /proc/PID/smaps grouped by mapping, right after all Running and again after `--wait` ms
// (a second parse worker, when one started, stops 3 s after its last file; the first stays). A diagnosis aid, not a figure.
//   npm run build --silent && node dist/bench/controller-memory.js 1000 --wait 6000
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ControllerChild } from './lib/controller-child.js';
import { scaleSession } from './lib/scale-session.js';

const MiB = 2 ** 20;

function status(pid: number): string {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (key: string) => `${key} ${(Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1]) / 1024).toFixed(1)}`;
  return [...['VmRSS', 'VmHWM', 'RssAnon', 'RssFile'].map(field), `Threads ${/Threads:\s+(\d+)/.exec(text)?.[1]}`].join('  ');
}

/** Resident MiB by mapping: files by path; anonymous ones by size (V8 takes 256 KiB pages, glibc 64 MiB arenas). */
function smaps(pid: number, top = 12): string {
  const groups = new Map<string, { rss: number; count: number }>();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      const kib = (parseInt(mapping[2]!, 16) - parseInt(mapping[1]!, 16)) / 1024;
      name = mapping[3] || (kib < 1024 ? '[anon under 1 MiB]' : kib >= 65_536 ? '[anon 64 MiB+]' : '[anon 1-64 MiB]');
      continue;
    }
    const rss = /^Rss:\s+(\d+)/.exec(line);
    if (!rss) continue;
    const group = groups.get(name) ?? { rss: 0, count: 0 };
    group.rss += Number(rss[1]) / 1024;
    group.count++;
    groups.set(name, group);
  }
  return [...groups].sort((a, b) => b[1].rss - a[1].rss).slice(0, top)
    .map(([key, g]) => `  ${g.rss.toFixed(1).padStart(6)} MiB ${String(g.count).padStart(4)}x ${key}`).join('\n');
}

async function heapSpaces(controller: ControllerChild): Promise<string> {
  const m = await controller.metrics();
  const spaces = ['new', 'old', 'code', 'large_object'].map((space) => {
    const used = m.get(`wimaxvm_nodejs_heap_space_size_used_bytes{space="${space}"}`) ?? 0;
    const total = m.get(`wimaxvm_nodejs_heap_space_size_total_bytes{space="${space}"}`) ?? 0;
    return `${space} ${(used / MiB).toFixed(1)}/${(total / MiB).toFixed(1)}`;
  });
  return `V8 heap (used/committed MiB): ${spaces.join('  ')}`;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { wait: { type: 'string', default: '6000' } } });
const n = Number(positionals[0] ?? 200);
const session = await scaleSession(n, ['--resync', '1h']);
try {
  const { pid } = session.controller;
  console.log(`${n} VMs converged in ${Math.round(session.convergeMs)} ms`);
  for (const [when, waitMs] of [['right after all Running', 0], [`after ${values.wait} ms more`, Number(values.wait)]] as const) {
    await new Promise((r) => setTimeout(r, waitMs));
    console.log(`-- ${when}: ${status(pid)} (MiB)\n${await heapSpaces(session.controller)}\n${smaps(pid)}`);
  }
} finally {
  await session.dispose();
}
