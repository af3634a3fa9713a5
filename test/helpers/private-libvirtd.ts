// A libvirtd of the test's own, so that a test may kill and restart it: a session daemon run as
// `nobody` in a temporary directory (its own socket, pid file, config and state), reached as
// root through qemu+unix:///session?socket=... Its guests are real QEMU processes (KVM where
// the kvm group may use /dev/kvm, else emulation); they survive a restart of the daemon, as
// they survive one of the system's libvirtd. Nothing else on the machine sees it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './harness.js';
import { daemonTestsEnabled } from './system.js';

const NOBODY = 65534;
const NOGROUP = 65534;

function has(file: string): boolean {
  try {
    execFileSync('which', [file], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Root (to run the daemon as another user and reach its socket), setpriv and libvirtd. */
export function privateLibvirtdEnabled(): boolean {
  return daemonTestsEnabled('a private libvirtd (root, setpriv, libvirtd)', process.getuid?.() === 0 && has('setpriv') && has('libvirtd'));
}

/** Whether a daemon may get a mount namespace of its own (the `storage` option): root with CAP_SYS_ADMIN and util-linux's unshare. */
export function mountNamespacesEnabled(): boolean {
  let works = false;
  try {
    execFileSync('unshare', ['--mount', '--propagation', 'private', 'true'], { stdio: 'ignore' });
    works = true;
  } catch {
    /* not allowed here */
  }
  return daemonTestsEnabled('mount namespaces (unshare --mount)', works);
}

function kvmGroup(): string[] {
  try {
    const gid = execFileSync('getent', ['group', 'kvm'], { encoding: 'utf8' }).split(':')[2];
    return gid ? [`--groups=${gid}`] : ['--clear-groups'];
  } catch {
    return ['--clear-groups'];
  }
}

export class PrivateLibvirtd {
  readonly dir = mkdtempSync(join(tmpdir(), 'wimaxvm-libvirtd-'));
  readonly socket = join(this.dir, 'run', 'libvirt', 'libvirt-sock');
  readonly uri = `qemu+unix:///session?socket=${this.socket}`;
  private child: ChildProcess | undefined;

  /**
   * `hostUuid`: the daemon's host_uuid (libvirtd.conf). Two daemons on one machine report the
   * machine's SMBIOS UUID alike, and libvirt refuses to migrate a guest between daemons of one host.
   */
  /**
   * `storage`: directories this daemon sees in place of others, as a host without shared storage
   * sees its own disks (path as the daemon sees it → the directory it is on this machine): the
   * daemon runs in a mount namespace of its own where each is bind-mounted over the path (which
   * must exist).
   */
  private readonly storage: Record<string, string>;

  constructor(opts: { hostUuid?: string; storage?: Record<string, string> } = {}) {
    this.storage = opts.storage ?? {};
    chmodSync(this.dir, 0o755);
    for (const sub of ['run', 'home']) {
      mkdirSync(join(this.dir, sub));
      chownSync(join(this.dir, sub), NOBODY, NOGROUP);
    }
    const config = join(this.dir, 'home', '.config', 'libvirt');
    mkdirSync(config, { recursive: true });
    if (opts.hostUuid) writeFileSync(join(config, 'libvirtd.conf'), `host_uuid = "${opts.hostUuid}"\n`);
    // VNC ports of its own: each daemon hands out 5900 upwards by itself, and a guest of the system
    // daemon and one of this daemon, started at once, both got 5900 ("Address already in use").
    const vncMin = 20000 + Math.floor(Math.random() * 400) * 50;
    writeFileSync(join(config, 'qemu.conf'), `remote_display_port_min = ${vncMin}\nremote_display_port_max = ${vncMin + 49}\n`);
    for (const d of [join(this.dir, 'home', '.config'), config]) chownSync(d, NOBODY, NOGROUP);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the daemon (its pid is this child's: setpriv execs it) and waits until it answers. */
  async start(): Promise<void> {
    const home = join(this.dir, 'home');
    const env = { HOME: home, XDG_RUNTIME_DIR: join(this.dir, 'run'), XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache'), PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
    const daemon = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOGROUP}`, ...kvmGroup(), 'libvirtd'];
    const mounts = Object.entries(this.storage);
    // unshare and sh exec: the daemon keeps the child's pid.
    this.child = mounts.length === 0
      ? spawn(daemon[0]!, daemon.slice(1), { env, cwd: home, stdio: 'ignore' })
      : spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
        `${mounts.map((_, i) => `mount --bind "\${${2 * i + 1}}" "\${${2 * i + 2}}" && `).join('')}shift ${2 * mounts.length} && exec "$@"`,
        'sh', ...mounts.flatMap(([path, dir]) => [dir, path]), ...daemon], { env, cwd: home, stdio: 'ignore' });
    const child = this.child;
    await eventually(() => {
      if (child.exitCode !== null) throw new Error(`libvirtd exited with ${child.exitCode}`);
      return existsSync(this.socket) && this.answers();
    }, 'the private libvirtd to answer', 30_000);
  }

  /** Kills the daemon this helper started (by its pid) and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  answers(): boolean {
    try {
      this.virsh('version');
      return true;
    } catch {
      return false;
    }
  }

  virsh(...args: string[]): string {
    return execFileSync('virsh', ['-c', this.uri, ...args], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Domain name → id of the running guests. */
  runningIds(): Map<string, number> {
    const out = new Map<string, number>();
    for (const line of this.virsh('list').split('\n').slice(2)) {
      const [id, name] = line.trim().split(/\s+/);
      if (id && name && /^\d+$/.test(id)) out.set(name, Number(id));
    }
    return out;
  }

  /** Powers off and undefines every guest, stops the daemon, removes its directory. */
  async dispose(): Promise<void> {
    if (!this.child) await this.start().catch(() => undefined); // its guests may still run
    if (this.answers()) {
      for (const name of this.virsh('list', '--all', '--name').split('\n').map((l) => l.trim()).filter(Boolean)) {
        try { this.virsh('destroy', name); } catch { /* not running */ }
        try { this.virsh('undefine', name); } catch { /* gone */ }
      }
    }
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
