// Storage pools and volumes of wimaxvm's libvirt binding (native/libvirt/storage.cc): what
// carrying a VM's overlay to a host without shared storage needs, no more.
import { enumValue, type RawStoragePool, type RawStorageVolume } from './native-addon.js';

const CREATE_WITH_BUILD = enumValue('virStoragePoolCreateFlags', 'VIR_STORAGE_POOL_CREATE_WITH_BUILD');

export interface StoragePool {
  readonly name: string;
  readonly uuid: string;
  /** virStoragePoolRefresh: the pool looks at its directory again (files made outside libvirt). */
  refresh(): Promise<void>;
  /** virStoragePoolDestroy: stops the pool (a transient one is gone); a dir pool's files stay. */
  destroy(): Promise<void>;
  getXmlDesc(): Promise<string>;
  createVolume(xml: string): Promise<StorageVolume>;
}

export interface StorageVolume {
  readonly name: string;
  readonly path: string;
  getXmlDesc(): Promise<string>;
  delete(): Promise<void>;
  /**
   * This volume's bytes into `destination` (created beforehand, on any connection): libvirt's
   * virStorageVolDownload into virStorageVolUpload. `sparse`: holes travel as their length
   * (VIR_STORAGE_VOL_DOWNLOAD/UPLOAD_SPARSE_STREAM) and stay holes at the destination.
   */
  transferTo(destination: StorageVolume, opts?: { sparse?: boolean }): Promise<{ dataBytes: number; holeBytes: number }>;
}

/** The flags of virStoragePoolCreateXML. */
export function poolCreateFlags(opts?: { build?: boolean }): number {
  return opts?.build ? CREATE_WITH_BUILD : 0;
}

export class StoragePoolHandle implements StoragePool {
  readonly name: string;
  readonly uuid: string;

  constructor(private readonly raw: RawStoragePool) {
    this.name = raw.name;
    this.uuid = raw.uuid;
  }

  refresh(): Promise<void> { return this.raw.refresh(); }
  destroy(): Promise<void> { return this.raw.destroy(); }
  getXmlDesc(): Promise<string> { return this.raw.getXmlDesc(0); }
  async createVolume(xml: string): Promise<StorageVolume> { return new StorageVolumeHandle(await this.raw.createVolume(xml, 0)); }
}

export class StorageVolumeHandle implements StorageVolume {
  readonly name: string;
  readonly path: string;

  constructor(readonly raw: RawStorageVolume) {
    this.name = raw.name;
    this.path = raw.path;
  }

  getXmlDesc(): Promise<string> { return this.raw.getXmlDesc(); }
  delete(): Promise<void> { return this.raw.delete(0); }

  transferTo(destination: StorageVolume, opts?: { sparse?: boolean }): Promise<{ dataBytes: number; holeBytes: number }> {
    if (!(destination instanceof StorageVolumeHandle)) throw new TypeError('transferTo needs a volume of this binding');
    return this.raw.transferTo(destination.raw, opts?.sparse ?? true);
  }
}
