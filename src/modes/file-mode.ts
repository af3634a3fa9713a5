// File mode: desired state from a watched directory; status and events in the state database,
// which this controller alone writes (it holds the controller lock for its whole life).
import { VM_KIND } from '../api/virtual-machine.js';
import { CLIENT_KIND } from '../api/wimax-client.js';
import { FileDesiredStateWriter } from '../adapters/file-desired-state-writer.js';
import { acquireControllerLock, type ControllerLock, type LockHolderInput } from '../adapters/store/controller-lock.js';
import { SqliteEventLog } from '../adapters/store/sqlite-event-log.js';
import { FileTrafficStatusWriter } from '../traffic/traffic-status-writers.js';
import { SqliteStatusStore } from '../adapters/store/sqlite-status-store.js';
import { openStateDatabase, type StateDatabase } from '../adapters/store/state-database.js';
import { DIRECTORY_META_KEY } from '../adapters/store/state-reader.js';
import { importYamlState } from '../adapters/store/yaml-state-import.js';
import { InProcessVlanClaims } from '../adapters/in-process-vlan-claims.js';
import { InProcessIpClaims } from '../adapters/in-process-ip-claims.js';
import type { Config } from '../config.js';
import { fileModeIdentity } from '../core/controller-identity.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { Logger } from '../core/logger.js';
import { DirectorySource, SOURCE_ANNOTATION } from '../sources/directory-source.js';
import { warmManifestParser } from '../sources/manifest-parse-pool.js';
import type { Mode } from './mode.js';

/** Kinds with stored status. */
export const STATUS_KINDS = [VM_KIND, CLIENT_KIND];

export class FileMode implements Mode {
  readonly name = 'file';
  readonly statuses: SqliteStatusStore;
  readonly events: SqliteEventLog;
  readonly writer: FileDesiredStateWriter;
  readonly trafficWriter: FileTrafficStatusWriter;
  readonly identity: string;
  readonly state: StateDatabase;
  private controllerLock: ControllerLock;
  /** One controller owns the directory's VMs: it arbitrates its VLANs itself. */
  readonly vlanClaims = new InProcessVlanClaims();
  readonly ipClaims = new InProcessIpClaims();
  source: DirectorySource | undefined;
  private store: DesiredStore | undefined;

  /** Takes the controller lock first (LockHeldError if another controller runs), then opens the state. */
  constructor(private readonly config: Config, private readonly logger: Logger) {
    this.identity = fileModeIdentity(config.dir);
    const holder: LockHolderInput = {
      directory: config.dir,
      identity: this.identity,
      listen: config.listen ? `${config.listen.host}:${config.listen.port}` : 'off',
      connect: config.connect,
    };
    this.controllerLock = acquireControllerLock(config.stateDir, holder);
    let state: StateDatabase | undefined;
    try {
      state = openStateDatabase(config.stateDir);
      state.setMeta(DIRECTORY_META_KEY, config.dir);
      importYamlState(state, STATUS_KINDS, logger);
      // Registered before the stores': the lock is taken again before they refill the database.
      state.onRecreated(() => this.retakeLock(holder));
      this.state = state;
      this.statuses = new SqliteStatusStore(state);
      this.events = new SqliteEventLog(state, logger);
      this.trafficWriter = new FileTrafficStatusWriter(this.statuses);
    } catch (err) {
      state?.close();
      this.controllerLock.release();
      throw err;
    }
    this.writer = new FileDesiredStateWriter(config.dir, (key) => this.store?.get(key)?.metadata.annotations?.[SOURCE_ANNOTATION]);
    // The parse worker loads (half a second of CPU, seconds on a busy machine) while libvirt
    // and the switch are set up, not after: the directory is read only then.
    warmManifestParser();
  }

  get witness(): DirectorySource | undefined {
    return this.source;
  }

  /** The state directory was deleted under us and a fresh database opened: the lock goes with it. */
  private retakeLock(holder: LockHolderInput): void {
    this.logger.warn('the state database was removed while the controller ran; writing a new one', { path: this.state.path });
    this.controllerLock.release(); // the old lock file is gone with its directory
    this.controllerLock = acquireControllerLock(this.config.stateDir, holder);
    this.state.setMeta(DIRECTORY_META_KEY, this.config.dir);
  }

  async startSource(store: DesiredStore): Promise<void> {
    this.store = store;
    this.source = new DirectorySource({
      dir: this.config.dir, store, logger: this.logger,
      previous: (key) => this.statuses.get(key),
      storedObjects: () => STATUS_KINDS.flatMap((kind) => this.statuses.list(kind)),
      allowEmpty: this.config.allowEmpty,
      settleMs: this.config.settleMs,
    });
    await this.source.start();
  }

  async stopSource(): Promise<void> {
    await this.source?.stop();
  }

  /** Closes the state database, then lets the next controller in. */
  async close(): Promise<void> {
    this.state.close();
    this.controllerLock.release();
  }
}
