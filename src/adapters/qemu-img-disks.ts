// Disk overlays with qemu-img: one process per overlay created, never per reconcile.
import { execFile } from '../observability/counted-child-process.js';
import { createHash } from 'node:crypto';
import { access, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DiskImages } from '../ports/disk-images.js';
import { checkImageChain, confinedImagePath, crossCheckChain } from '../images/confinement.js';
import { qemuImg, type ImageInspector } from '../images/qemu-img-info.js';
import { assertPermit, type DeletionPermit } from '../core/deletion-gate.js';

const run = promisify(execFile);

/** A domain's folder in the overlay directory: its overlays and its cloud-init seed, removed together. */
export function domainDiskDir(overlayDir: string, domainName: string): string {
  return join(overlayDir, domainName);
}

export class QemuImgDisks implements DiskImages {
  /** Images whose chain was checked, by real path: the version checked and its format. */
  private readonly checked = new Map<string, { stamp: string; format: string }>();

  constructor(private readonly imageDir: string, private readonly overlayDir: string, private readonly inspector: ImageInspector = qemuImg) {}

  /** One folder a domain, so that removing a domain's overlays is one call, not a listing. */
  overlayPath(domainName: string, index: number, imagePath: string): string {
    const image = createHash('sha256').update(imagePath).digest('hex').slice(0, 8);
    return join(domainDiskDir(this.overlayDir, domainName), `disk${index}-${image}.qcow2`);
  }

  /**
   * Confined by the same rules as `wimaxvm image import` (src/images/confinement.ts). The chain is
   * read with qemu-img once per version of the image file (its inode, size and mtime), not on
   * every reconcile: a stat per reconcile, a process per image changed.
   */
  async resolveImage(image: string): Promise<string> {
    const real = await confinedImagePath(this.imageDir, image);
    const s = await stat(real);
    const stamp = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
    if (this.checked.get(real)?.stamp !== stamp) {
      const { layers } = await checkImageChain(this.imageDir, real, this.inspector, { name: image });
      await crossCheckChain(this.imageDir, real, this.inspector, { layers }, image);
      this.checked.set(real, { stamp, format: layers[0]!.format });
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
    // The overlay names its backing file's format: qemu never probes it (a raw image is raw).
    const format = this.checked.get(imagePath)?.format ?? (await this.inspector.info(imagePath)).format;
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', format, '-b', imagePath, tmp]);
    await rename(tmp, path);
  }

  async removeOverlays(domainName: string, permit: DeletionPermit): Promise<void> {
    assertPermit(permit, domainName);
    await rm(domainDiskDir(this.overlayDir, domainName), { recursive: true, force: true });
  }
}
