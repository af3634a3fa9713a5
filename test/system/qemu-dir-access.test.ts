// The start-time check that libvirt's qemu user can reach the overlay and image directories,
// against the real thing: the kernel's answer for that user, libvirtd starting a guest with a
// disk there, and the built CLI refusing to start.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertQemuCanReach, DirAccessError, readQemuAccount } from '../../src/adapters/qemu-dir-access.js';
import { systemTestsEnabled, virsh } from '../helpers/system.js';

const enabled = systemTestsEnabled();
const run = Math.random().toString(36).slice(2, 7);
const DOMAIN = `sys-${run}-access`;

/** What the kernel says when the qemu user itself tries to enter `dir`. */
function qemuUserCanEnter(dir: string): boolean {
  return spawnSync('runuser', ['-u', 'libvirt-qemu', '--', 'test', '-x', dir], { timeout: 10_000 }).status === 0;
}

function domainXml(disk: string): string {
  return `<domain type='qemu'><name>${DOMAIN}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os>
    <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk></devices></domain>`;
}

describe.runIf(enabled)('the qemu user reaching --overlay-dir and --image-dir', () => {
  let base: string;
  let closed: string;
  let overlays: string;

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'wimaxvm-access-'));
    chmodSync(base, 0o755);
    closed = join(base, 'closed'); // as /root is: rwx for its owner only
    overlays = join(closed, 'overlays');
    mkdirSync(overlays, { recursive: true, mode: 0o755 });
    mkdirSync(join(base, 'vms')); // a watched directory: nothing else in the way of a start
    chmodSync(closed, 0o700);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(overlays, 'disk.qcow2'), '16M']);
  });

  afterAll(() => {
    try { virsh('destroy', DOMAIN); } catch { /* not running */ }
    try { virsh('undefine', DOMAIN); } catch { /* not defined */ }
    rmSync(base, { recursive: true, force: true });
  });

  it('knows the qemu user libvirt runs guests as on this host', async () => {
    const uid = Number(execFileSync('id', ['-u', 'libvirt-qemu'], { encoding: 'utf8' }).trim());
    expect((await readQemuAccount())?.uid).toBe(uid);
  });

  const overlayDir = () => [{ flag: '--overlay-dir' as const, path: overlays, reachable: '/var/lib/wimaxvm/overlays' }];

  it('refuses a directory below one without o+x, naming it and the fix; the kernel and libvirtd refuse it too', async () => {
    const check = assertQemuCanReach('qemu:///system', overlayDir());
    await expect(check).rejects.toThrow(DirAccessError);
    await expect(check).rejects.toThrow(`which cannot search ${closed} (mode 700, owner uid 0)`);
    await expect(check).rejects.toThrow(`Fix: chmod o+x ${closed}, or --overlay-dir under /var/lib/wimaxvm/overlays`);
    expect(qemuUserCanEnter(overlays)).toBe(false);
    writeFileSync(join(base, 'domain.xml'), domainXml(join(overlays, 'disk.qcow2')));
    virsh('define', join(base, 'domain.xml'));
    expect(() => virsh('start', DOMAIN)).toThrow(/Permission denied/);
  }, 60_000);

  it('the built controller refuses to start, with that one line, before it connects to libvirt', () => {
    const out = spawnSync(process.execPath, ['bin/wimaxvm.js', 'run', '--dir', join(base, 'vms'), '--state-dir', join(base, 'state'),
      '--connect', 'qemu:///system', '--overlay-dir', overlays, '--listen', 'off', '--log-format', 'json'], { encoding: 'utf8', timeout: 30_000 });
    expect(out.status).toBe(1);
    const lines = out.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`^error: disk directories: --overlay-dir ${overlays}: libvirt runs guests as libvirt-qemu \\(uid \\d+\\), which cannot search ${closed} `));
    expect(out.stderr).not.toContain('connected to libvirt');
  }, 60_000);

  it('passes once the directory is searchable, and libvirtd then starts the guest with its disk there', async () => {
    chmodSync(closed, 0o711);
    await expect(assertQemuCanReach('qemu:///system', overlayDir())).resolves.toBeUndefined();
    expect(qemuUserCanEnter(overlays)).toBe(true);
    virsh('start', DOMAIN);
    expect(virsh('domstate', DOMAIN).trim()).toBe('running');
  }, 60_000);

  it('does not apply to the test driver, which runs no guests', async () => {
    chmodSync(closed, 0o700);
    await expect(assertQemuCanReach('test:///default', overlayDir())).resolves.toBeUndefined();
  });
});
