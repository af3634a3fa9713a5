// An Open vSwitch of the test's own, so that a test may kill and restart its daemons: an
// ovsdb-server with its own database file and socket, and an ovs-vswitchd on it, both children
// of the test process in a temporary directory. The OVS tools find them through OVS_RUNDIR,
// which use() sets for this test process (and so for the controller's ovs-vsctl and ovs-ofctl).
// ovs-vswitchd runs in a network namespace of its own: the userspace datapath makes a tap
// device named ovs-netdev, which the host's Open vSwitch may hold already. Its ports' devices
// go there too (OvsTestbed's switchNetns).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './harness.js';
import { daemonTestsEnabled } from './system.js';

const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export function privateOvsEnabled(): boolean {
  return daemonTestsEnabled('a private Open vSwitch (root, ovsdb-server, ovs-vswitchd)', process.getuid?.() === 0 && existsSync(SCHEMA));
}

export type OvsDaemon = 'ovsdb-server' | 'ovs-vswitchd';

export class PrivateOvs {
  readonly dir = mkdtempSync(join(tmpdir(), 'wimaxvm-ovs-'));
  readonly db = join(this.dir, 'conf.db');
  readonly remote = `unix:${join(this.dir, 'db.sock')}`;
  readonly netns = `wxovs-${Math.random().toString(36).slice(2, 8)}`;
  private readonly children = new Map<OvsDaemon, ChildProcess>();

  get env(): Record<string, string> {
    return { OVS_RUNDIR: this.dir, OVS_LOGDIR: this.dir, OVS_DBDIR: this.dir };
  }

  /** Points this process's OVS tools (and the controller's) at this switch. */
  use(): void {
    Object.assign(process.env, this.env);
  }

  async startAll(): Promise<void> {
    execFileSync('ip', ['netns', 'add', this.netns]);
    execFileSync('ip', ['-n', this.netns, 'link', 'set', 'lo', 'up']);
    execFileSync('ovsdb-tool', ['create', this.db, SCHEMA]);
    await this.start('ovsdb-server');
    this.vsctl('--no-wait', 'init');
    await this.start('ovs-vswitchd');
  }

  async start(daemon: OvsDaemon): Promise<void> {
    const common = [`--pidfile=${join(this.dir, `${daemon}.pid`)}`, `--unixctl=${join(this.dir, `${daemon}.ctl`)}`, `--log-file=${join(this.dir, `${daemon}.log`)}`, '--no-chdir'];
    const args = daemon === 'ovsdb-server'
      ? [this.db, `--remote=p${this.remote}`, ...common]
      : [this.remote, ...common];
    // `ip netns exec` execs the daemon in place: the child's pid is the daemon's.
    const [file, ...argv] = daemon === 'ovs-vswitchd' ? ['ip', 'netns', 'exec', this.netns, daemon, ...args] : [daemon, ...args];
    const child = spawn(file!, argv, { env: { ...process.env, ...this.env }, stdio: 'ignore' });
    this.children.set(daemon, child);
    await eventually(() => {
      if (child.exitCode !== null) throw new Error(`${daemon} exited with ${child.exitCode}`);
      return this.answers(daemon);
    }, `${daemon} to answer`, 30_000);
  }

  /** Whether the daemon answers on its control socket. */
  answers(daemon: OvsDaemon): boolean {
    try {
      execFileSync('ovs-appctl', ['-t', join(this.dir, `${daemon}.ctl`), 'version'], { stdio: 'ignore', timeout: 5_000 });
      return daemon === 'ovs-vswitchd' || (this.vsctl('--timeout=2', 'show'), true);
    } catch {
      return false;
    }
  }

  /** Kills a daemon this helper started, by its pid, and waits for it to be gone. */
  async kill(daemon: OvsDaemon, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.children.get(daemon);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.children.delete(daemon);
  }

  vsctl(...args: string[]): string {
    return execFileSync('ovs-vsctl', [`--db=${this.remote}`, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async dispose(): Promise<void> {
    await this.kill('ovs-vswitchd', 'SIGTERM');
    await this.kill('ovsdb-server', 'SIGTERM');
    try { execFileSync('ip', ['netns', 'del', this.netns]); } catch { /* not made */ }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
