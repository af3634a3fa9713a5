// In-memory DiskImages: `images` holds the image names that exist; overlays are only recorded.
import { createHash } from 'node:crypto';
import { ImageError, type DiskImages } from '../../src/ports/disk-images.js';
import { assertPermit, type DeletionPermit } from '../../src/core/deletion-gate.js';

export type FakeDiskCall =
  | { op: 'ensureOverlay'; domainName: string; index: number; imagePath: string }
  | { op: 'removeOverlays'; domainName: string };

export interface FakeDiskImagesOptions {
  imageDir?: string;
  overlayDir?: string;
  /** Shared with other fakes to check the order of calls across them ("disks:ensureOverlay vm1#0"). */
  journal?: string[];
}

export class FakeDiskImages implements DiskImages {
  /** Names of the images that exist in the image directory. */
  readonly images = new Set<string>();
  /** Overlay paths that exist. */
  readonly overlays = new Set<string>();
  readonly calls: FakeDiskCall[] = [];
  readonly imageDir: string;
  readonly overlayDir: string;
  private readonly journal: string[] | undefined;

  constructor(opts: FakeDiskImagesOptions = {}) {
    this.imageDir = opts.imageDir ?? '/var/lib/wimaxvm/images';
    this.overlayDir = opts.overlayDir ?? '/var/lib/wimaxvm/overlays';
    this.journal = opts.journal;
  }

  overlayPath(domainName: string, index: number, imagePath: string): string {
    return `${this.overlayDir}/${domainName}/disk${index}-${createHash('sha256').update(imagePath).digest('hex').slice(0, 8)}.qcow2`;
  }

  async resolveImage(image: string): Promise<string> {
    if (image.startsWith('/') || image.split('/').includes('..')) {
      throw new ImageError(`disk image ${JSON.stringify(image)} is not inside the image directory ${this.imageDir}`);
    }
    if (!this.images.has(image)) {
      throw new ImageError(`disk image ${JSON.stringify(image)} not found in the image directory ${this.imageDir}`);
    }
    return `${this.imageDir}/${image}`;
  }

  async ensureOverlay(domainName: string, index: number, imagePath: string): Promise<void> {
    this.calls.push({ op: 'ensureOverlay', domainName, index, imagePath });
    this.journal?.push(`disks:ensureOverlay ${domainName}#${index}`);
    this.overlays.add(this.overlayPath(domainName, index, imagePath));
  }

  async removeOverlays(domainName: string, permit: DeletionPermit): Promise<void> {
    assertPermit(permit, domainName);
    this.calls.push({ op: 'removeOverlays', domainName });
    this.journal?.push(`disks:removeOverlays ${domainName}`);
    for (const path of [...this.overlays]) {
      if (path.startsWith(`${this.overlayDir}/${domainName}/`)) this.overlays.delete(path);
    }
  }
}
