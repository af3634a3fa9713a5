// Moving a running guest to another host (many hosts, issue 11). Apart from the Hypervisor port
// so that only what moves guests depends on it; LibvirtHypervisor implements both.

export interface MigrationOptions {
  /**
   * Where the destination QEMU listens for the memory stream (tcp:HOST:PORT); libvirt picks a
   * port on the destination's address when absent.
   */
  migrateUri?: string;
  /**
   * The disks are the same files on both hosts (shared storage, or two daemons on one
   * machine): libvirt cannot tell a local path is shared and refuses ("Migration without shared
   * storage is unsafe") unless told so.
   */
  sharedStorage?: boolean;
  /** Bandwidth cap, MiB/s. */
  bandwidthMiBs?: number;
}

export interface DomainMigration {
  /**
   * Live-migrates the running domain `name` to the host at `destUri` (libvirt peer-to-peer: this
   * host's daemon connects to the destination). The persistent definition goes along and leaves
   * this host in the same step (libvirt's PERSIST_DEST + UNDEFINE_SOURCE), so there is never a
   * moment with two definitions or none. On failure the guest keeps running here.
   */
  migrate(name: string, destUri: string, opts?: MigrationOptions): Promise<void>;
}
