// Per-VM copy-on-write overlays over the images of the configured image directory.
import type { DeletionPermit } from '../core/deletion-gate.js';

export interface DiskImages {
  /**
   * The overlay's path for disk `index` of a domain over `imagePath`; pure, no I/O. It names the
   * image, so that a new image gives a new overlay (a new disk) rather than the old one's data.
   */
  overlayPath(domainName: string, index: number, imagePath: string): string;
  /**
   * Resolves an image name inside the image directory; an ImageError if it leaves it (by name,
   * symlink or backing chain: src/images/confinement.ts), is refused, or does not exist.
   */
  resolveImage(image: string): Promise<string>;
  /** Creates the overlay over the image unless it exists already. */
  ensureOverlay(domainName: string, index: number, imagePath: string): Promise<void>;
  /** Removes every overlay of a domain: only with the deletion gate's permit for it. */
  removeOverlays(domainName: string, permit: DeletionPermit): Promise<void>;
}

/**
 * The image is missing, outside the image directory or refused (its format, its backing chain):
 * the user must act. `reason` is the VM condition's reason.
 */
export class ImageError extends Error {
  constructor(message: string, readonly reason: 'ImageNotFound' | 'ImageOutsideDirectory' | 'InvalidImageName' | 'ImageRefused' | 'ImageUnreadable' | string = 'ImageNotFound') {
    super(message);
    this.name = 'ImageError';
  }
}
