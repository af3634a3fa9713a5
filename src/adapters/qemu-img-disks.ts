// Disk overlays with qemu-img: one process per overlay created, never per reconcile.
import { execFile } from '../observability/counted-child-process.js';
import { createHash } from 'node:crypto';
import { access, mkdir, realpath, rename, rm } from 'node:fs/promises';
import { join, relative, isAbsolute, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { ImageError, type DiskImages } from '../ports/disk-images.js';
import { assertPermit, type DeletionPermit } from '../core/deletion-gate.js';

const run = promisify(execFile);

/** A domain's folder in the overlay directory: its overlays and its cloud-init seed, removed together. */
export function domainDiskDir(overlayDir: string, domainName: string): string {
  return join(overlayDir, domainName);
}

export class QemuImgDisks implements DiskImages {
  constructor(private readonly imageDir: string, private readonly overlayDir: string) {}

  /** One folder a domain, so that removing a domain's overlays is one call, not a listing. */
  overlayPath(domainName: string, index: number, imagePath: string): string {
    const image = createHash('sha256').update(imagePath).digest('hex').slice(0, 8);
    return join(domainDiskDir(this.overlayDir, domainName), `disk${index}-${image}.qcow2`);
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
    const path = this.overlayPath(domainName, index, imagePath);
    try {
      await access(path);
      return;
    } catch {
      /* not there yet */
    }
    // libvirtd runs guests as its own user: the overlay folder must be traversable by it.
    await mkdir(domainDiskDir(this.overlayDir, domainName), { recursive: true, mode: 0o755 });
    const tmp = `${path}.tmp-${process.pid}`;
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', imagePath, tmp]);
    await rename(tmp, path);
  }

  async removeOverlays(domainName: string, permit: DeletionPermit): Promise<void> {
    assertPermit(permit, domainName);
    await rm(domainDiskDir(this.overlayDir, domainName), { recursive: true, force: true });
  }
}
