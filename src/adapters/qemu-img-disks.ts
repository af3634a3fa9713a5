// Disk overlays with qemu-img: one process per overlay created, never per reconcile.
import { execFile } from 'node:child_process';
import { access, mkdir, realpath, rename, rm } from 'node:fs/promises';
import { join, relative, isAbsolute, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { ImageError, type DiskImages } from '../ports/disk-images.js';

const run = promisify(execFile);

/** The CRD's maxItems for spec.disks. */
const MAX_DISKS = 8;

export class QemuImgDisks implements DiskImages {
  constructor(private readonly imageDir: string, private readonly overlayDir: string) {}

  overlayPath(domainName: string, index: number): string {
    return join(this.overlayDir, `${domainName}-disk${index}.qcow2`);
  }

  async resolveImage(image: string): Promise<string> {
    const root = resolve(this.imageDir);
    const candidate = resolve(root, image);
    if (isAbsolute(image) || !candidate.startsWith(root + sep)) {
      throw new ImageError(`disk image ${JSON.stringify(image)} is not inside the image directory ${root}`);
    }
    let real: string;
    try {
      [real] = await Promise.all([realpath(candidate), access(candidate)]);
    } catch {
      throw new ImageError(`disk image ${JSON.stringify(image)} not found in the image directory ${root}`);
    }
    // A symlink may not lead out of the image directory either.
    const realRoot = await realpath(root);
    const rel = relative(realRoot, real);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new ImageError(`disk image ${JSON.stringify(image)} resolves outside the image directory ${root}`);
    }
    return real;
  }

  async ensureOverlay(domainName: string, index: number, imagePath: string): Promise<void> {
    const path = this.overlayPath(domainName, index);
    try {
      await access(path);
      return;
    } catch {
      /* not there yet */
    }
    // libvirtd runs guests as its own user: the overlay folder must be traversable by it.
    await mkdir(this.overlayDir, { recursive: true, mode: 0o755 });
    const tmp = `${path}.tmp-${process.pid}`;
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', imagePath, tmp]);
    await rename(tmp, path);
  }

  async removeOverlays(domainName: string): Promise<void> {
    // Paths are known from the name (at most MAX_DISKS): no directory listing per deletion.
    await Promise.all(Array.from({ length: MAX_DISKS }, (_, i) => rm(this.overlayPath(domainName, i), { force: true })));
  }
}
