// The guest's initramfs: busybox-static, the init script and its hooks, and the kernel modules
// in load order; gzip-compressed newc cpio.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { cpioNewc, type CpioEntry } from './cpio.js';

/** busybox-static's binary (Debian's busybox-static package). */
export const BUSYBOX = '/bin/busybox';

/** The scripts of this folder that go into the guest, by their path there. */
export const GUEST_SCRIPTS: Record<string, string> = {
  '/init': 'init.sh',
  '/etc/udhcpc.sh': 'udhcpc.sh',
  '/etc/acpi/PWRF/00000080': 'poweroff.sh',
  '/etc/live.sh': 'live.sh',
  '/etc/nocloud.sh': 'nocloud.sh',
};

/** Whether an ELF64 executable asks for a dynamic loader (has a PT_INTERP program header). */
function isDynamic(elf: Buffer): boolean {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  for (let i = 0; i < elf.readUInt16LE(0x38); i++) if (elf.readUInt32LE(phoff + i * phentsize) === 3) return true;
  return false;
}

export function buildInitramfs(scriptDir: string, modules: Map<string, Buffer>): Buffer {
  const busybox = readFileSync(BUSYBOX);
  if (!busybox.subarray(0, 4).equals(Buffer.from('\x7fELF')) || isDynamic(busybox)) {
    throw new Error(`${BUSYBOX} is not a static busybox: install busybox-static (scripts/install-deps.sh)`);
  }
  const dirs = ['/bin', '/dev', '/etc', '/etc/acpi', '/etc/acpi/PWRF', '/lib', '/lib/modules', '/proc', '/sys', '/tmp', '/seed', '/var', '/var/run'];
  const entries: CpioEntry[] = [
    ...dirs.map((path): CpioEntry => ({ path, type: 'dir' })),
    // The kernel opens /dev/console for init's output before init mounts devtmpfs.
    { path: '/dev/console', type: 'chardev', major: 5, minor: 1 },
    { path: '/bin/busybox', type: 'file', data: busybox, mode: 0o755 },
    { path: '/bin/sh', type: 'symlink', target: 'busybox' },
    ...Object.entries(GUEST_SCRIPTS).map(([path, file]): CpioEntry => ({ path, type: 'file', data: readFileSync(join(scriptDir, file)), mode: 0o755 })),
    { path: '/etc/modules', type: 'file', data: Buffer.from([...modules.keys()].map((m) => `${m}\n`).join('')) },
    ...[...modules].map(([name, ko]): CpioEntry => ({ path: `/lib/modules/${name}.ko`, type: 'file', data: ko })),
  ];
  return gzipSync(cpioNewc(entries), { level: 9 });
}
