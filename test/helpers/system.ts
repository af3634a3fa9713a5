// What the system tests need of the machine: root, a running libvirtd with QEMU/KVM.
import { execFileSync } from 'node:child_process';

export function libvirtdReachable(): boolean {
  try {
    execFileSync('virsh', ['-c', 'qemu:///system', 'version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * System tests run where libvirtd is reachable. In CI they must run: a missing daemon is a
 * failure there, not a skip.
 */
export function systemTestsEnabled(): boolean {
  const ok = libvirtdReachable();
  if (!ok && process.env.CI) throw new Error('CI: libvirtd (qemu:///system) is not reachable; scripts/start-daemons.sh should have started it');
  if (!ok) console.warn('system tests skipped: libvirtd (qemu:///system) not reachable; run as root: bash scripts/start-daemons.sh');
  return ok;
}

export function virsh(...args: string[]): string {
  return execFileSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8', timeout: 30_000 });
}
