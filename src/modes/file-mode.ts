// File mode: desired state from a watched directory, status as YAML files in the state directory.
import { VM_KIND } from '../api/virtual-machine.js';
import { CLIENT_KIND } from '../api/wimax-client.js';
import { FileDesiredStateWriter } from '../adapters/file-desired-state-writer.js';
import { FileEventLog } from '../adapters/file-event-log.js';
import { InProcessVlanClaims } from '../adapters/in-process-vlan-claims.js';
import { ensureDir, FileStatusStore } from '../adapters/file-status-store.js';
import type { Config } from '../config.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { Logger } from '../core/logger.js';
import { DirectorySource, SOURCE_ANNOTATION } from '../sources/directory-source.js';
import type { Mode } from './mode.js';

/** Kinds with status files. */
export const STATUS_KINDS = [VM_KIND, CLIENT_KIND];

export class FileMode implements Mode {
  readonly name = 'file';
  readonly statuses: FileStatusStore;
  readonly events: FileEventLog;
  readonly writer: FileDesiredStateWriter;
  /** One controller owns the directory's VMs: it arbitrates its VLANs itself. */
  readonly vlanClaims = new InProcessVlanClaims();
  source: DirectorySource | undefined;
  private store: DesiredStore | undefined;

  constructor(private readonly config: Config, private readonly logger: Logger) {
    ensureDir(config.stateDir);
    this.statuses = new FileStatusStore(config.stateDir).load(STATUS_KINDS);
    this.events = new FileEventLog(config.stateDir);
    this.writer = new FileDesiredStateWriter(config.dir, (key) => this.store?.get(key)?.metadata.annotations?.[SOURCE_ANNOTATION]);
  }

  async startSource(store: DesiredStore): Promise<void> {
    this.store = store;
    this.source = new DirectorySource({
      dir: this.config.dir, store, logger: this.logger,
      previous: (key) => this.statuses.get(key),
      storedObjects: () => STATUS_KINDS.flatMap((kind) => this.statuses.list(kind)),
    });
    await this.source.start();
  }

  async stopSource(): Promise<void> {
    await this.source?.stop();
  }

  async close(): Promise<void> {
    await this.events.close();
  }
}
