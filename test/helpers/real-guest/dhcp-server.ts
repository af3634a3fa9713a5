// A DHCP server for the real guest: dnsmasq (Debian's dnsmasq-base), DHCP only, as a child
// process in a network namespace that sits on the guest's VLAN. Stopped by its own pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DhcpServerOptions {
  /** The namespace and its interface the server answers on (its own address must be in the range's subnet). */
  netns: string;
  iface: string;
  /** First and last address to lease, e.g. 10.77.0.100 and 10.77.0.199 (a /24). */
  range: [string, string];
}

export class DhcpServer {
  private constructor(private readonly child: ChildProcess, private readonly dir: string, private readonly output: string[]) {}

  static async start(opts: DhcpServerOptions): Promise<DhcpServer> {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-dhcp-'));
    // `ip netns exec` execs dnsmasq in place: the child's pid is the server's.
    const child = spawn('ip', ['netns', 'exec', opts.netns, 'dnsmasq', '--keep-in-foreground', '--log-facility=-', '--log-dhcp',
      '--conf-file=/dev/null', '--port=0', `--interface=${opts.iface}`, '--bind-interfaces', '--dhcp-authoritative',
      `--dhcp-range=${opts.range[0]},${opts.range[1]},255.255.255.0,1h`, `--dhcp-leasefile=${join(dir, 'leases')}`,
      `--pid-file=${join(dir, 'pid')}`, '--user=root'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout!.on('data', (d) => output.push(String(d)));
    child.stderr!.on('data', (d) => output.push(String(d)));
    const server = new DhcpServer(child, dir, output);
    // Listening once it says so; an exit first is a failed start.
    for (let i = 0; i < 200 && child.exitCode === null; i++) {
      if (output.join('').includes('DHCP, IP range')) return server;
      await new Promise((r) => setTimeout(r, 25));
    }
    server.stop();
    throw new Error(`dnsmasq in ${opts.netns} did not start: ${output.join('').slice(-500)}`);
  }

  /** What dnsmasq logged (its DHCP exchanges with --log-dhcp). */
  log(): string {
    return this.output.join('');
  }

  /** The leases it gave: MAC → address. */
  leases(): Map<string, string> {
    let text = '';
    try {
      text = readFileSync(join(this.dir, 'leases'), 'utf8');
    } catch { /* none yet */ }
    return new Map(text.split('\n').filter(Boolean).map((l) => l.split(' ')).map((f) => [f[1]!.toLowerCase(), f[2]!]));
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.pid !== undefined) this.child.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
