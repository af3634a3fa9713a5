// Carrying a VM's disk files to another host that does not see them (no shared storage): a cold
// move copies them there before the domain is defined there (src/hosts/domain-move.ts).
import type { DeletionPermit } from '../core/deletion-gate.js';

export interface CarriedDisk {
  path: string;
  /** false: the destination saw the file already (shared storage, or carried before): nothing was written. */
  copied: boolean;
  /** What travelled: bytes of data, and bytes of holes sent as their length only. */
  dataBytes: number;
  holeBytes: number;
}

/** One side of a carry: the host's name (for messages) and its libvirt URI. */
export interface CarrySide {
  host: string;
  uri: string;
}

export interface DiskCarrier {
  /**
   * Makes each file of `paths` (the domain's disks as `from` sees them) exist at the same path on
   * `to`. A file `to` sees already is left as it is and never overwritten; one it does not is
   * created there (same format, capacity and backing file) and filled from `from`'s. A qcow2's
   * backing file must be on `to` already: DiskCarryError otherwise, and nothing is written.
   */
  carry(from: CarrySide, to: CarrySide, paths: readonly string[]): Promise<CarriedDisk[]>;
  /** Those of `paths` that `to` does not see (before a live move, which needs them there). */
  unseen(to: CarrySide, paths: readonly string[]): Promise<string[]>;
  /**
   * Removes `paths` at `from` after the domain moved away to `to`: only files this move copied,
   * only with the deletion gate's permit for the moved definition that names them
   * (decideMigrated), and only where `to` is seen to hold its copy (else that file stays).
   * Returns the paths removed.
   */
  removeCarried(from: CarrySide, to: CarrySide, domainName: string, paths: readonly string[], permit: DeletionPermit): Promise<string[]>;
}

/** What the user must fix before the disks can go (a base image missing at the destination...). */
export class DiskCarryError extends Error {
  override readonly name = 'DiskCarryError';
}
