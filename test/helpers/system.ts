// What the system tests need of the machine: root, a running libvirtd with QEMU/KVM, Open vSwitch.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Whether a command that talks to a daemon succeeds (as root only: the daemons are root's). */
export function answers(file: string, ...args: string[]): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync(file, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Tests that need a daemon run where it answers. In CI they must run: a missing daemon is a
 * failure there, not a skip.
 */
export function daemonTestsEnabled(what: string, reachable: boolean): boolean {
  if (!reachable && process.env.CI) throw new Error(`CI: ${what} is not reachable as root; scripts/start-daemons.sh should have started it`);
  if (!reachable) console.warn(`tests skipped: ${what} not reachable; run as root: bash scripts/start-daemons.sh`);
  return reachable;
}

export function systemTestsEnabled(): boolean {
  return daemonTestsEnabled('libvirtd (qemu:///system)', answers('virsh', '-c', 'qemu:///system', 'version'));
}

export function virsh(...args: string[]): string {
  return execFileSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8', timeout: 30_000 });
}

/** Where scripts/start-daemons.sh records the libvirtd it started. */
export const OUR_LIBVIRTD = '/run/wimaxvm-daemons/libvirtd.pid';

/** The pid of the running libvirtd if scripts/start-daemons.sh (or a test) started it; else undefined. */
export function ourLibvirtd(): number | undefined {
  try {
    const ours = Number(readFileSync(OUR_LIBVIRTD, 'utf8').trim());
    const running = Number(readFileSync('/run/libvirtd.pid', 'utf8').trim());
    if (!ours || ours !== running) return undefined;
    process.kill(ours, 0);
    return ours;
  } catch {
    return undefined;
  }
}
