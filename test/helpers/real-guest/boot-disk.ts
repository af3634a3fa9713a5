// The guest's boot disk: a partitionless FAT image made bootable with syslinux (no mount, no
// root: mtools writes into the image file), holding the kernel, the initramfs and syslinux.cfg,
// then converted to qcow2, the format wimaxvm's disk overlays expect of their base image.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The kernel's command line: the console on the first serial port, which libvirt logs. */
export const KERNEL_CMDLINE = 'console=ttyS0 quiet';

const SYSLINUX_CFG = `DEFAULT guest
PROMPT 0
TIMEOUT 0
LABEL guest
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND ${KERNEL_CMDLINE}
`;

/** Builds `<workDir>/guest.qcow2` from the kernel and initramfs files; returns its path. */
export async function buildBootDisk(workDir: string, vmlinuz: string, initrd: string, payloadBytes: number): Promise<string> {
  const raw = join(workDir, 'guest.raw');
  const cfg = join(workDir, 'syslinux.cfg');
  writeFileSync(cfg, SYSLINUX_CFG);
  // The files, plus room for the FAT and syslinux's own files.
  const sizeKiB = Math.ceil(payloadBytes / 1024 / 1024 + 2) * 1024;
  await run('mkfs.vfat', ['-C', '-n', 'WXGUEST', raw, String(sizeKiB)]);
  const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' }; // an image file has no disk geometry to check
  await run('mcopy', ['-i', raw, vmlinuz, '::vmlinuz'], { env });
  await run('mcopy', ['-i', raw, initrd, '::initrd.gz'], { env });
  await run('mcopy', ['-i', raw, cfg, '::syslinux.cfg'], { env });
  await run('syslinux', ['--install', raw], { env });
  const qcow2 = join(workDir, 'guest.qcow2');
  await run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  return qcow2;
}
