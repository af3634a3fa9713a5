// One build of the guest disk into an empty directory: kernel and modules from the .deb, the
// initramfs, the bootable image. What it was built from and how long it took go to build.json.
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildBootDisk } from './boot-disk.js';
import { buildInitramfs } from './initramfs.js';
import { unpackKernel } from './kernel.js';

export interface BuildInfo {
  kernelDeb: string;
  modules: string[];
  initrdBytes: number;
  diskBytes: number;
  buildMs: number;
}

/** Builds `<outDir>/guest.qcow2`; `outDir` must exist and be empty. */
export async function buildGuest(outDir: string, kernelDeb: string, scriptDir: string): Promise<BuildInfo> {
  const started = Date.now();
  const work = join(outDir, 'work');
  mkdirSync(work);
  try {
    const kernel = await unpackKernel(kernelDeb, work);
    const vmlinuz = join(work, 'vmlinuz');
    const initrd = join(work, 'initrd.gz');
    const initramfs = buildInitramfs(scriptDir, kernel.modules);
    writeFileSync(vmlinuz, kernel.vmlinuz);
    writeFileSync(initrd, initramfs);
    const disk = await buildBootDisk(work, vmlinuz, initrd, kernel.vmlinuz.length + initramfs.length);
    renameSync(disk, join(outDir, 'guest.qcow2'));
    const info: BuildInfo = {
      kernelDeb: basename(kernelDeb),
      modules: [...kernel.modules.keys()],
      initrdBytes: initramfs.length,
      diskBytes: statSync(join(outDir, 'guest.qcow2')).size,
      buildMs: Date.now() - started,
    };
    writeFileSync(join(outDir, 'build.json'), `${JSON.stringify(info, null, 2)}\n`);
    return info;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
