// The guest's kernel and the modules it needs, unpacked from Debian's linux-image-cloud-amd64
// .deb (fetched by scripts/install-deps.sh, never installed): the vmlinuz and the few .ko files,
// in load order. The cloud flavour rather than linux-image-amd64: its LZ4 kernel with fewer
// drivers reached the ready line in 19 s instead of 36 s under QEMU's software emulation.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * What Debian's 6.1 cloud config builds as modules (=m) and the guest needs: the virtio PCI transport
 * and NIC (with their dependencies, found from each module's own `depends=`), the balloon, the
 * block driver (for disks hot-plugged while it runs), the ACPI power button with evdev, which
 * makes it visible on /dev/input/event*; and for a cloud-init seed on a CD-ROM (nocloud.sh),
 * virtio-scsi, the SCSI CD-ROM driver and iso9660 (the cloud kernel has no AHCI driver: wimaxvm
 * puts the seed's CD-ROM on virtio-scsi). The serial console (8250), devtmpfs, packet sockets
 * and initramfs support are built in.
 */
export const GUEST_MODULES = ['virtio_pci', 'virtio_net', 'virtio_balloon', 'virtio_blk', 'button', 'evdev', 'virtio_scsi', 'sr_mod', 'isofs'];

/** The cloud kernel's .deb in the cache's kernel directory, by file name; exactly one is expected. */
export function kernelDeb(kernelDir: string): string {
  let debs: string[] = [];
  try {
    debs = readdirSync(kernelDir).filter((f) => /^linux-image-.*-cloud-amd64_.*\.deb$/.test(f));
  } catch { /* no directory: said below */ }
  if (debs.length === 0) throw new Error(`no linux-image-*-cloud-amd64 .deb in ${kernelDir}: run scripts/install-deps.sh (it downloads the real guest's kernel)`);
  if (debs.length > 1) throw new Error(`several cloud kernel .debs in ${kernelDir} (${debs.join(', ')}): keep one`);
  return join(kernelDir, debs[0]!);
}

/** The names a module depends on, from the `depends=` string in its .modinfo section. */
export function moduleDepends(ko: Buffer): string[] {
  const at = ko.indexOf('\0depends=');
  if (at < 0) return [];
  const end = ko.indexOf(0, at + 1);
  return ko.subarray(at + '\0depends='.length, end).toString().split(',').filter(Boolean);
}

/** `wanted` and everything they depend on, dependencies first. */
export function loadOrder(wanted: string[], dependsOf: (name: string) => string[]): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (order.includes(name)) return;
    if (visiting.has(name)) throw new Error(`module dependency cycle at ${name}`);
    visiting.add(name);
    for (const dep of dependsOf(name)) visit(dep);
    order.push(name);
  };
  wanted.forEach(visit);
  return order;
}

export interface UnpackedKernel {
  vmlinuz: Buffer;
  /** Module name → its .ko, in load order. */
  modules: Map<string, Buffer>;
}

/** Every .ko below `dir`: module name → the paths holding it. */
function indexModules(dir: string, index = new Map<string, string[]>()): Map<string, string[]> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) indexModules(path, index);
    else if (entry.name.endsWith('.ko')) index.set(entry.name.slice(0, -3), [...(index.get(entry.name.slice(0, -3)) ?? []), path]);
  }
  return index;
}

/**
 * Unpacks only what the guest needs into `workDir`: the whole data archive is read once
 * (xz, a few seconds); the needed modules' dependencies are all within drivers/{virtio,net,
 * input,acpi,scsi,cdrom}, net/core and fs/isofs, which are unpacked in full (a few MB).
 */
export async function unpackKernel(deb: string, workDir: string): Promise<UnpackedKernel> {
  const patterns = ['./boot/vmlinuz-*', ...['drivers/virtio', 'drivers/net', 'drivers/block', 'drivers/input', 'drivers/acpi', 'drivers/scsi', 'drivers/cdrom', 'net/core', 'fs/isofs'].map((d) => `./lib/modules/*/kernel/${d}/*.ko`)];
  await run('bash', ['-o', 'pipefail', '-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards "${@:3}"', '_', deb, workDir, ...patterns], { maxBuffer: 1 << 20 });
  const vmlinuz = readdirSync(join(workDir, 'boot')).find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new Error(`${deb} holds no /boot/vmlinuz-*`);
  const kos = new Map<string, Buffer>();
  const index = indexModules(join(workDir, 'lib', 'modules'));
  const read = (name: string): Buffer => {
    let ko = kos.get(name);
    if (ko) return ko;
    const paths = index.get(name) ?? [];
    if (paths.length !== 1) throw new Error(`module ${name}: ${paths.length ? `several files (${paths.join(', ')})` : 'not in the unpacked directories of'} ${deb}`);
    ko = readFileSync(paths[0]!);
    kos.set(name, ko);
    return ko;
  };
  const order = loadOrder(GUEST_MODULES, (name) => moduleDepends(read(name)));
  return { vmlinuz: readFileSync(join(workDir, 'boot', vmlinuz)), modules: new Map(order.map((name) => [name, read(name)])) };
}
