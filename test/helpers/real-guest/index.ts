// A tiny real guest for system tests and the bench: Debian's cloud kernel and a busybox
// initramfs on a bootable disk image, built once per machine (see cache.ts). Booted by wimaxvm with a plain
// `spec.disks: [{ image }]`, it prints on its serial console (serial-console.ts) when it is
// ready, the DHCP lease it got and a counter every second; it answers ping, and powers off at
// once on the ACPI power button (libvirt's graceful shutdown). Given a cloud-init NoCloud seed on
// a CD-ROM, a stand-in for cloud-init (nocloud.sh) applies its hostname and static address.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGuest, type BuildInfo } from './build.js';
import { cachedBuild, hashInputs, realGuestCacheDir } from './cache.js';
import { BUSYBOX, GUEST_SCRIPTS } from './initramfs.js';
import { kernelDeb } from './kernel.js';

export { GUEST_SAYS, SerialLog, wimaxvmSerialLog, type CounterLine, type WaitOptions } from './serial-console.js';
export type { BuildInfo } from './build.js';
export { DhcpServer, type DhcpServerOptions } from './dhcp-server.js';

/** Memory the guest boots in with room to spare (Debian's kernel and the unpacked initramfs). */
export const REAL_GUEST_MEMORY = '128Mi';

// The scripts and builder sources hashed and packed below stay in the source tree when this
// module runs compiled from dist/ (as the bench does).
const compiledOrNot = dirname(fileURLToPath(import.meta.url));
const here = existsSync(join(compiledOrNot, 'init.sh')) ? compiledOrNot : resolve(compiledOrNot, '../../../../test/helpers/real-guest');
const SYSLINUX = '/usr/bin/syslinux';
const BUILDER_FILES = ['build.ts', 'boot-disk.ts', 'cpio.ts', 'initramfs.ts', 'kernel.ts'];

/**
 * What a build depends on: this folder's builder and scripts, busybox, syslinux, and the kernel
 * .deb (by name and size: Debian never reuses a version, and hashing 70 MB on every call is slow).
 */
function buildKey(deb: string): string {
  for (const tool of [BUSYBOX, SYSLINUX, '/usr/sbin/mkfs.vfat', '/usr/bin/mcopy']) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing: run scripts/install-deps.sh (busybox-static, syslinux, dosfstools, mtools)`);
  }
  const sources = [...BUILDER_FILES, ...Object.values(GUEST_SCRIPTS)].map((f) => join(here, f));
  return hashInputs([...sources, BUSYBOX, SYSLINUX], [`${basename(deb)}:${statSync(deb).size}`]);
}

let building: Promise<string> | undefined;

/**
 * The absolute path of the guest's disk image (qcow2, about 16 MB), built on first use and then
 * reused by every test process; a wimaxvm VM boots it as its first disk.
 */
export function ensureRealGuestDisk(): Promise<string> {
  building ??= (async () => {
    const deb = kernelDeb(join(realGuestCacheDir(), 'kernel'));
    const dir = await cachedBuild(join(realGuestCacheDir(), 'builds'), buildKey(deb), async (out) => { await buildGuest(out, deb, here); });
    return join(dir, 'guest.qcow2');
  })();
  building.catch(() => { building = undefined; }); // a failed build is tried again on the next call
  return building;
}

/** What the cached build at `disk` was made from, and how long it took. */
export function realGuestBuildInfo(disk: string): BuildInfo {
  return JSON.parse(readFileSync(join(dirname(disk), 'build.json'), 'utf8')) as BuildInfo;
}
