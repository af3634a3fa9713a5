// A throw-away OVS testbed: a netdev bridge, an uplink to a "base station" namespace in which a
// Linux bridge joins two station namespaces, and two VM ports (tags 7 and 9) each into a VM
// namespace. All names carry a random run id; dispose() removes everything, whatever failed.
import { answers, daemonTestsEnabled } from './system.js';
import { execFileSync } from 'node:child_process';
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export function sh(file: string, ...args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Never throws: for clean-up. */
function quietly(file: string, ...args: string[]): void {
  try {
    sh(file, ...args);
  } catch {
    /* already gone */
  }
}

/** OVS tests need root and a running Open vSwitch. */
export function ovsTestsEnabled(): boolean {
  return daemonTestsEnabled('Open vSwitch', answers('ovs-vsctl', '--timeout=5', 'show'));
}

export interface Station {
  ns: string;
  mac: string;
  ip: string;
}

export interface TestbedOptions {
  /** Names of the two VM ports (default: random); e.g. the names the controller gives VM ports. */
  vmPorts?: [string, string];
  /** Access tags put on the VM ports at creation (default 7 and 9); null leaves them untagged for the controller. */
  vmTags?: [number, number] | null;
  /** The network namespace ovs-vswitchd runs in, where the bridge-side ends go (default: the host's). */
  switchNetns?: string;
}

export class OvsTestbed {
  readonly run = Math.random().toString(36).slice(2, 6).padEnd(4, '0');
  readonly bridge = `wxt${this.run}`;
  readonly uplink = `wx${this.run}u`;
  readonly portA: string;
  readonly portB: string;
  private readonly tags: [number, number] | null;
  /** `ip` arguments that address the switch's namespace. */
  private readonly onSwitch: string[];
  readonly vmA = { ns: `wx${this.run}-va`, ip: '10.77.0.11' };
  readonly vmB = { ns: `wx${this.run}-vb`, ip: '10.77.0.12' };
  readonly st1: Station = { ns: `wx${this.run}-s1`, mac: '00:11:22:33:44:55', ip: '10.77.0.1' };
  readonly st2: Station = { ns: `wx${this.run}-s2`, mac: '00:11:22:33:44:66', ip: '10.77.0.2' };
  readonly bs = `wx${this.run}-bs`;
  /** Other bridges a test created, removed by dispose() too. */
  readonly extraBridges: string[] = [];

  private get namespaces(): string[] {
    return [this.bs, this.vmA.ns, this.vmB.ns, this.st1.ns, this.st2.ns];
  }

  constructor(opts: TestbedOptions = {}) {
    [this.portA, this.portB] = opts.vmPorts ?? [`wx${this.run}a`, `wx${this.run}b`];
    this.tags = opts.vmTags === undefined ? [7, 9] : opts.vmTags;
    this.onSwitch = opts.switchNetns ? ['-n', opts.switchNetns] : [];
    this.switchExec = opts.switchNetns ? ['ip', 'netns', 'exec', opts.switchNetns] : [];
  }

  /** A command prefix that runs in the switch's namespace. */
  private readonly switchExec: string[];

  static create(opts: TestbedOptions = {}): OvsTestbed {
    const t = new OvsTestbed(opts);
    try {
      t.build();
    } catch (err) {
      t.dispose();
      throw err;
    }
    return t;
  }

  private build(): void {
    sh('ovs-vsctl', '--timeout=20', 'add-br', this.bridge, '--', 'set', 'Bridge', this.bridge, 'datapath_type=netdev');
    for (const ns of this.namespaces) {
      sh('ip', 'netns', 'add', ns);
      // IPv4 only: IPv6's own frames (router solicitations, MLD reports) left a station seconds
      // after its last packet and made an idle station's traffic move (the traffic tests count bytes).
      sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    // The uplink: into the base station's namespace, where a Linux bridge makes it a shared medium.
    sh('ip', ...this.onSwitch, 'link', 'add', this.uplink, 'type', 'veth', 'peer', 'name', 'uplink0', 'netns', this.bs);
    sh('ip', '-n', this.bs, 'link', 'add', 'br0', 'type', 'bridge');
    sh('ip', '-n', this.bs, 'link', 'set', 'dev', 'uplink0', 'master', 'br0', 'up');
    for (const [i, st] of [this.st1, this.st2].entries()) {
      sh('ip', '-n', this.bs, 'link', 'add', `s${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', st.ns);
      sh('ip', '-n', this.bs, 'link', 'set', 'dev', `s${i}`, 'master', 'br0', 'up');
      this.host(st.ns, st.ip, st.mac);
    }
    sh('ip', '-n', this.bs, 'link', 'set', 'br0', 'up');
    for (const [port, vm] of [[this.portA, this.vmA], [this.portB, this.vmB]] as const) {
      sh('ip', ...this.onSwitch, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vm.ns);
      this.host(vm.ns, vm.ip);
    }
    for (const port of [this.uplink, this.portA, this.portB]) sh('ip', ...this.onSwitch, 'link', 'set', port, 'up');
    const tag = (i: 0 | 1) => (this.tags ? [`tag=${this.tags[i]}`] : []);
    sh('ovs-vsctl', '--timeout=20', 'add-port', this.bridge, this.uplink, '--', 'add-port', this.bridge, this.portA, ...tag(0), '--', 'add-port', this.bridge, this.portB, ...tag(1));
  }

  /**
   * TCP through OVS's userspace datapath needs checksums computed by the sender: veth offloads
   * them, and nothing on the way fills them in. Turns TX offload off on every veth end.
   */
  enableTcp(): void {
    const ethtool = [...this.switchExec, 'ethtool'];
    for (const port of [this.uplink, this.portA, this.portB]) sh(ethtool[0]!, ...ethtool.slice(1), '-K', port, 'tx', 'off');
    sh('ip', 'netns', 'exec', this.bs, 'ethtool', '-K', 'uplink0', 'tx', 'off');
    for (const i of [0, 1]) sh('ip', 'netns', 'exec', this.bs, 'ethtool', '-K', `s${i}`, 'tx', 'off');
    for (const ns of [this.vmA.ns, this.vmB.ns, this.st1.ns, this.st2.ns]) sh('ip', 'netns', 'exec', ns, 'ethtool', '-K', 'eth0', 'tx', 'off');
  }


  /**
   * Throughput in kbit/s measured by iperf3 from `ns` to `ip` (reverse: the server sends).
   * Bounded: 3 s of traffic, 20 s at most.
   */
  iperfKbps(ns: string, ip: string, port: number, reverse = false, seconds = 3): number {
    let out: string;
    try {
      out = execFileSync('ip', ['netns', 'exec', ns, 'iperf3', '-c', ip, '-p', String(port), '-t', String(seconds), '-J', ...(reverse ? ['-R'] : [])],
        { encoding: 'utf8', timeout: 20_000 });
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? '');
    }
    const report = JSON.parse(out || '{}');
    const bps = report.end?.sum_received?.bits_per_second;
    if (typeof bps !== 'number') throw new Error(`iperf3 ${ns} → ${ip}:${port}${reverse ? ' (reverse)' : ''} failed: ${report.error ?? out.slice(0, 300)}`);
    return bps / 1000;
  }

  private host(ns: string, ip: string, mac?: string): void {
    if (mac) sh('ip', '-n', ns, 'link', 'set', 'eth0', 'address', mac);
    sh('ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
    sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
  }

  /** Whether `from` gets an echo reply from `ip`: a few tries, as the first ARP may be lost. */
  ping(from: string, ip: string, tries = 5): boolean {
    quietly('ip', '-n', from, 'neigh', 'flush', 'all'); // no answer from an earlier binding
    for (let i = 0; i < tries; i++) {
      try {
        sh('ip', 'netns', 'exec', from, 'ping', '-n', '-q', '-c', '1', '-W', '1', ip);
        return true;
      } catch {
        /* try again */
      }
    }
    return false;
  }

  ofctl(...args: string[]): string {
    return sh('ovs-ofctl', '-O', 'OpenFlow13', ...args);
  }

  /** Flow lines (without counters) of the bridge that carry the given cookie (exact). */
  flows(cookie: string): string[] {
    return this.ofctl('--names', '--no-stats', 'dump-flows', this.bridge, `cookie=${cookie}/-1`).split('\n').filter((l) => l.includes('cookie='));
  }

  /** Meter id → rate (kbps) of every meter on the bridge. */
  meters(): Map<number, number> {
    const out = new Map<number, number>();
    for (const m of this.ofctl('dump-meters', this.bridge).matchAll(/meter=(\d+)[^\n]*\n\s*type=\S+ rate=(\d+)/g)) out.set(Number(m[1]), Number(m[2]));
    return out;
  }

  private readonly iperfProcesses: ChildProcess[] = [];

  /**
   * Starts an iperf3 server in a namespace as a child process (not a daemon), and returns once
   * it listens; stopIperfProcesses() (and dispose()) stop it by its pid.
   */
  async startIperfProcess(ns: string, port: number): Promise<void> {
    // `ip netns exec` execs iperf3 in place: the child's pid is the server's.
    const child = spawn('ip', ['netns', 'exec', ns, 'iperf3', '-s', '-p', String(port)], { stdio: 'ignore' });
    child.unref();
    this.iperfProcesses.push(child);
    for (let i = 0; i < 100; i++) {
      if (sh('ip', 'netns', 'exec', ns, 'ss', '-Hltn', `sport = :${port}`).trim()) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`iperf3 server in ${ns} on port ${port} did not start`);
  }

  stopIperfProcesses(): void {
    for (const child of this.iperfProcesses.splice(0)) if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
  }

  /** iperfKbps without blocking, so that several clients can run at once. */
  async iperfKbpsAsync(ns: string, ip: string, port: number, reverse = false, seconds = 3): Promise<number> {
    const out = await new Promise<string>((resolve) => {
      execFile('ip', ['netns', 'exec', ns, 'iperf3', '-c', ip, '-p', String(port), '-t', String(seconds), '-J', ...(reverse ? ['-R'] : [])],
        { encoding: 'utf8', timeout: 20_000 }, (_err, stdout) => resolve(String(stdout ?? '')));
    });
    const report = JSON.parse(out || '{}');
    const bps = report.end?.sum_received?.bits_per_second;
    if (typeof bps !== 'number') throw new Error(`iperf3 ${ns} → ${ip}:${port}${reverse ? ' (reverse)' : ''} failed: ${report.error ?? out.slice(0, 300)}`);
    return bps / 1000;
  }

  dispose(): void {
    this.stopIperfProcesses();
    for (const br of [this.bridge, ...this.extraBridges]) quietly('ovs-vsctl', '--timeout=20', '--if-exists', 'del-br', br);
    for (const port of [this.uplink, this.portA, this.portB]) quietly('ip', ...this.onSwitch, 'link', 'del', port);
    for (const ns of this.namespaces) quietly('ip', 'netns', 'del', ns);
  }
}
