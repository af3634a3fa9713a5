// `wimaxvm top [stations|slices|vms]`: the running controller's per-station or per-slice traffic,
// busiest first, refreshed in place like `kubectl top` or `virt-top` (--once: one table, for
// scripts). It asks the controller's HTTP API (/traffic), found from the controller lock of
// --dir's state directory, or --server; so it works in file mode without a cluster, and in
// Kubernetes mode through a port-forward.
import { parseArgs } from 'node:util';
import { readLockHolder } from '../adapters/store/controller-lock.js';
import { DEFAULT_NAMESPACE } from '../api/meta.js';
import { parseDuration, stateDirFor } from '../config.js';
import { formatBytes, formatRate } from '../traffic/format.js';
import type { TrafficCounters, TrafficSnapshot } from '../traffic/traffic-feed.js';
import { TOP_OPTIONS } from './command-options.js';
import { checkLogLevel, namedDir } from './common-flags.js';
import { table } from './output.js';
import { UsageError, usage } from './usage.js';


type What = 'stations' | 'slices';
const WHAT: Record<string, What> = { stations: 'stations', station: 'stations', wxc: 'stations', slices: 'slices', slice: 'slices', vms: 'slices', vm: 'slices' };

/** The table of one snapshot: busiest (up + down) first, then by name. */
export function topTable(snapshot: TrafficSnapshot, what: What, namespace: string | undefined): string {
  type Row = TrafficCounters & { namespace: string; label: string; vm?: string | undefined; vlan?: number | undefined };
  const rows: Row[] = what === 'stations'
    ? snapshot.stations.map((s) => ({ ...s, label: s.name }))
    : snapshot.slices.map((s) => ({ ...s, label: s.vm }));
  const shown = rows.filter((r) => namespace === undefined || r.namespace === namespace)
    .sort((a, b) => b.uplinkBps + b.downlinkBps - (a.uplinkBps + a.downlinkBps) || a.namespace.localeCompare(b.namespace) || a.label.localeCompare(b.label));
  const headers = [...(namespace === undefined ? ['NAMESPACE'] : []), ...(what === 'stations' ? ['NAME', 'VM'] : ['VM']), 'VLAN', 'UP', 'DOWN', 'UP-TOTAL', 'DOWN-TOTAL', 'DROPS'];
  const cells = shown.map((r) => [
    ...(namespace === undefined ? [r.namespace] : []), ...(what === 'stations' ? [r.label, r.vm ?? '<none>'] : [r.label]), r.vlan === undefined ? '-' : String(r.vlan),
    formatRate(r.uplinkBps), formatRate(r.downlinkBps), formatBytes(r.uplinkBytes), formatBytes(r.downlinkBytes), String(r.droppedPackets)]);
  return table(headers, cells);
}

/** Where the controller's API is: --server, else what its lock says it listens on. */
function serverOf(values: { server?: string | undefined; dir?: string | undefined; 'state-dir'?: string | undefined }): string {
  if (values.server) return values.server.replace(/\/+$/, '');
  const dir = namedDir(values.dir);
  const stateDir = stateDirFor({ dir, 'state-dir': values['state-dir'] });
  const holder = readLockHolder(stateDir);
  if (!holder) throw new Error(`no controller is running for ${dir ?? 'the bundled examples/'} (state ${stateDir}); top shows a running controller's live counters (or pass --server URL)`);
  if (holder.listen === 'off') throw new Error(`the controller (pid ${holder.pid}) runs with --listen off: top needs its HTTP API`);
  const host = holder.listen.replace(/^(0\.0\.0\.0|\[::\]|::):/, '127.0.0.1:');
  return `http://${host}`;
}

async function fetchSnapshot(server: string): Promise<TrafficSnapshot> {
  let res: Response;
  try {
    res = await fetch(`${server}/traffic`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`cannot reach the controller at ${server}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  if (!res.ok) throw new Error(`${server}/traffic: ${res.status} ${(await res.text()).trim()}`);
  return await res.json() as TrafficSnapshot;
}

export async function top(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: TOP_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return (process.stdout.write(usage('top') + '\n'), 0);
  checkLogLevel(values['log-level']);
  if (positionals.length > 1) throw new UsageError('top takes at most one argument: stations, slices or vms');
  const what = WHAT[positionals[0] ?? 'stations'];
  if (!what) throw new UsageError(`top: expected stations, slices or vms, got ${JSON.stringify(positionals[0])}`);
  const intervalMs = parseDuration(values.interval ?? '2s', 'interval');
  const namespace = values['all-namespaces'] ? undefined : values.namespace ?? DEFAULT_NAMESPACE;
  const server = serverOf(values);
  if (values.once) {
    process.stdout.write(topTable(await fetchSnapshot(server), what, namespace) + '\n');
    return 0;
  }
  // In place on a terminal (cursor home, clear); elsewhere one table after another.
  const tty = process.stdout.isTTY === true;
  for (;;) {
    const snapshot = await fetchSnapshot(server);
    const heading = `${what} of ${server} at ${snapshot.at} (every ${snapshot.intervalMs / 1000}s; Ctrl-C to quit)`;
    process.stdout.write(`${tty ? '\x1b[H\x1b[2J' : ''}${heading}\n${topTable(snapshot, what, namespace)}\n${tty ? '' : '\n'}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
