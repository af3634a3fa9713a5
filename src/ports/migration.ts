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

/** libvirt's job figures while a migration runs (virDomainGetJobInfo). */
export interface MigrationProgress {
  processedBytes: number;
  remainingBytes: number;
  totalBytes: number;
  elapsedMs: number;
}

export interface DomainMigration {
  /**
   * Live-migrates the running domain `name` to the host at `destUri` (libvirt peer-to-peer: this
   * host's daemon connects to the destination). The persistent definition goes along
   * (PERSIST_DEST); the source keeps its own, shut off with reason `migrated`, until the
   * deletion gate permits removing it (decideMigrated): libvirt's UNDEFINE_SOURCE would remove
   * it outside the gate. On failure the guest keeps running here.
   */
  migrate(name: string, destUri: string, opts?: MigrationOptions): Promise<void>;
  /** Whether the domain's definition here is persistent (a transient one vanishes when it stops). */
  isPersistent?(name: string): Promise<boolean>;
  /** The running migration's figures; undefined when no job runs (yet). */
  migrationProgress?(name: string): Promise<MigrationProgress | undefined>;
}
