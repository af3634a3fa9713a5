// Where a VM's cloud-init NoCloud seed image lives and how it is made. The seed sits in the
// domain's overlay folder, so it is removed with the overlays (DiskImages.removeOverlays, with
// the deletion gate's permit) and by nothing else.
import type { NoCloudSeed } from '../seed/nocloud-seed.js';

export interface SeedImages {
  /** The seed image's path for a domain; pure, no I/O. The same path whatever the content. */
  seedPath(domainName: string): string;
  /** Writes the seed image unless the one there was made from the same content; returns its path. */
  ensureSeed(domainName: string, seed: NoCloudSeed): Promise<string>;
}
