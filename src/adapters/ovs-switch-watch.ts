// Notices at once when Open vSwitch goes away and comes back, so that what a restart of
// ovs-vswitchd loses (every flow and meter) is put back then, not at the next resync. OVSDB
// does not record a restart of ovs-vswitchd; the OpenFlow connection does: two long-lived
// monitor processes hold one connection each, to ovs-vswitchd (an OpenFlow flow monitor on the
// bridge, filtered to a table nothing uses, so it stays silent) and to ovsdb-server (a monitor
// of one column). Each prints a line once connected and exits when its daemon goes away; it is
// then started again with backoff. The OVS tools find the daemons as they always do
// (OVS_RUNDIR, default /var/run/openvswitch).
import type { ChildProcess } from 'node:child_process';
import { spawn } from '../observability/counted-child-process.js';
import type { Logger } from '../core/logger.js';
import { WatchBackoff } from '../core/watch-backoff.js';

export type SwitchLink = 'ovs-vswitchd' | 'ovsdb-server';

export interface SwitchWatchOptions {
  bridge: string;
  logger: Logger;
  /** Called when a daemon is reachable again after it was lost: repair the switch. */
  onRestored: (link: SwitchLink) => void;
  ofctl?: string;
  ovsdbClient?: string;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

interface LinkState {
  /** undefined until the first connection or failure. */
  up: boolean | undefined;
  /** The daemon's or tool's last words while it is unreachable. */
  because: string | undefined;
  /** Lost after having been reachable, or unreachable from the start: a repair is due when it is back. */
  lost: boolean;
  child: ChildProcess | undefined;
  backoff: WatchBackoff;
  timer: NodeJS.Timeout | undefined;
}

export class SwitchWatch {
  private readonly links = new Map<SwitchLink, LinkState>();
  private stopped = false;

  constructor(private readonly opts: SwitchWatchOptions) {
    for (const link of ['ovs-vswitchd', 'ovsdb-server'] as const) {
      const backoff = new WatchBackoff({ baseMs: opts.retryBaseMs ?? 200, maxMs: opts.retryMaxMs ?? 5_000 });
      this.links.set(link, { up: undefined, because: undefined, lost: false, child: undefined, backoff, timer: undefined });
    }
  }

  start(): void {
    this.stopped = false;
    for (const link of this.links.keys()) this.connect(link);
  }

  /** Ends the monitor processes this watch started. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.links.values()].map(async (state) => {
      clearTimeout(state.timer);
      const child = state.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }));
  }

  /** Why the switch is not reachable, while one of its daemons is not; undefined when both are (or not known yet). */
  get unreachableBecause(): string | undefined {
    const down = [...this.links].filter(([, s]) => s.up === false);
    if (!down.length) return undefined;
    return down.map(([link, s]) => `${link} is not reachable${s.because ? ` (${s.because})` : ''}`).join('; ');
  }

  private command(link: SwitchLink): [string, string[]] {
    if (link === 'ovs-vswitchd') return [this.opts.ofctl ?? 'ovs-ofctl', ['monitor', this.opts.bridge, 'watch:!initial,table=254']];
    const rundir = process.env.OVS_RUNDIR ?? '/var/run/openvswitch';
    return [this.opts.ovsdbClient ?? 'ovsdb-client', ['monitor', `unix:${rundir}/db.sock`, 'Open_vSwitch', 'Open_vSwitch', 'cur_cfg']];
  }

  private connect(link: SwitchLink): void {
    const state = this.links.get(link)!;
    if (this.stopped) return;
    const [file, args] = this.command(link);
    state.backoff.attempt();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    state.child = child;
    let stderr = '';
    child.stdout!.on('data', () => {
      if (state.up === true) return;
      const wasLost = state.lost;
      state.up = true;
      state.because = undefined;
      state.lost = false;
      state.backoff.delivered();
      if (wasLost) {
        this.opts.logger.info(`${link} is reachable again; restoring what it lost`, { bridge: this.opts.bridge });
        this.opts.onRestored(link);
      }
    });
    child.stderr!.on('data', (chunk) => (stderr = (stderr + String(chunk)).slice(-2000)));
    child.on('error', (err) => (stderr = err.message)); // the tool is missing: 'exit' follows
    child.on('close', () => {
      state.child = undefined;
      if (this.stopped) return;
      const because = lastLine(stderr) || 'the monitor ended';
      if (!state.lost) {
        // Said once per outage; the retries are quiet until it is back.
        this.opts.logger.warn(`${link} is not reachable; waiting for it, flows and meters are restored when it is back`, { bridge: this.opts.bridge, error: because });
      }
      state.up = false;
      state.lost = true;
      state.because = because;
      state.timer = setTimeout(() => this.connect(link), state.backoff.failed());
      state.timer.unref();
    });
  }
}

/** The last non-empty line of a tool's stderr, without the tool's name. */
function lastLine(text: string): string {
  const line = text.trim().split('\n').filter(Boolean).pop() ?? '';
  return line.replace(/^(ovs-ofctl|ovsdb-client): /, '').replace(/^\S+\|\d+\|\S+\|\S+\|/, '').trim();
}
