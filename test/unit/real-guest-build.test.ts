// The pure parts of the real guest's build (test/helpers/real-guest/): the initramfs archive
// format and the kernel modules' load order. The guest booting is the system tests' proof.
import { describe, expect, it } from 'vitest';
import { cpioNewc } from '../helpers/real-guest/cpio.js';
import { loadOrder, moduleDepends } from '../helpers/real-guest/kernel.js';

/** Reads a newc archive back: name, mode, size, rdev and data of each record. */
function readNewc(archive: Buffer) {
  const out: { name: string; mode: number; data: string; rdev: [number, number] }[] = [];
  let at = 0;
  for (;;) {
    expect(archive.subarray(at, at + 6).toString()).toBe('070701');
    const field = (i: number) => parseInt(archive.subarray(at + 6 + i * 8, at + 14 + i * 8).toString(), 16);
    const [mode, size, rmaj, rmin, namesize] = [field(1), field(6), field(9), field(10), field(11)];
    const nameAt = at + 110;
    const name = archive.subarray(nameAt, nameAt + namesize - 1).toString();
    const dataAt = Math.ceil((nameAt + namesize) / 4) * 4;
    if (name === 'TRAILER!!!') return out;
    out.push({ name, mode, data: archive.subarray(dataAt, dataAt + size).toString(), rdev: [rmaj, rmin] });
    at = Math.ceil((dataAt + size) / 4) * 4;
  }
}

describe('the initramfs archive (newc cpio)', () => {
  it('holds directories, files, symlinks and device nodes with their modes, 4-byte aligned', () => {
    const archive = cpioNewc([
      { path: '/bin', type: 'dir' },
      { path: '/bin/busybox', type: 'file', data: Buffer.from('elf!!'), mode: 0o755 },
      { path: '/bin/sh', type: 'symlink', target: 'busybox' },
      { path: '/dev/console', type: 'chardev', major: 5, minor: 1 },
    ]);
    expect(readNewc(archive)).toEqual([
      { name: 'bin', mode: 0o040755, data: '', rdev: [0, 0] },
      { name: 'bin/busybox', mode: 0o100755, data: 'elf!!', rdev: [0, 0] },
      { name: 'bin/sh', mode: 0o120777, data: 'busybox', rdev: [0, 0] },
      { name: 'dev/console', mode: 0o020600, data: '', rdev: [5, 1] },
    ]);
    expect(archive.length % 4).toBe(0);
  });
});

describe('kernel module load order', () => {
  it("reads a module's depends= from its .modinfo strings", () => {
    const ko = Buffer.from('\x7fELF...\0license=GPL\0depends=virtio_ring,virtio,net_failover\0retpoline=Y\0');
    expect(moduleDepends(ko)).toEqual(['virtio_ring', 'virtio', 'net_failover']);
    expect(moduleDepends(Buffer.from('\0license=GPL\0depends=\0'))).toEqual([]);
  });

  it('puts every dependency first, once, and refuses a cycle', () => {
    const deps: Record<string, string[]> = {
      virtio_net: ['virtio_ring', 'virtio', 'net_failover'], virtio: ['virtio_ring'], virtio_ring: [], net_failover: ['failover'], failover: [], button: [],
    };
    expect(loadOrder(['virtio_net', 'button', 'virtio'], (m) => deps[m]!)).toEqual(['virtio_ring', 'virtio', 'failover', 'net_failover', 'virtio_net', 'button']);
    expect(() => loadOrder(['a'], (m) => (m === 'a' ? ['b'] : ['a']))).toThrow(/cycle/);
  });
});
