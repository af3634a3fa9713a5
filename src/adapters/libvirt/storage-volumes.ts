// One host's view of files through libvirt's storage API: the pool over a file's directory (an
// existing one, refreshed, else a transient `dir` pool made for the occasion and destroyed after:
// a dir pool's files stay when it goes), the volume at a path, and what a volume's XML says.
import { randomBytes } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { LibvirtError, type Connection, type StoragePool, type StorageVolume } from './native.js';

export interface VolumeFacts {
  /** qcow2, raw, iso... as libvirt probes it. */
  format: string;
  /** Virtual size, bytes. */
  capacity: number;
  /** The file's size, bytes. */
  physical: number;
  backing?: { path: string; format: string };
  /** Octal, as libvirt writes it ('0644'). */
  mode?: string;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });

export function volumeFacts(xml: string): VolumeFacts {
  const v = (parser.parse(xml) as { volume: Record<string, any> }).volume;
  const bytes = (n: any): number => Number(typeof n === 'object' ? n['#text'] : n);
  const facts: VolumeFacts = {
    format: String(v.target?.format?.['@type'] ?? 'raw'),
    capacity: bytes(v.capacity),
    physical: bytes(v.physical ?? v.allocation),
  };
  if (v.backingStore?.path) facts.backing = { path: String(v.backingStore.path), format: String(v.backingStore.format?.['@type'] ?? 'raw') };
  if (v.target?.permissions?.mode) facts.mode = String(v.target.permissions.mode);
  return facts;
}

/** A new file's volume XML: its content comes by upload, so libvirt only makes the container. */
export function newVolumeXml(path: string, like: VolumeFacts): string {
  const format = like.format === 'qcow2' ? 'qcow2' : 'raw';
  const backing = format === 'qcow2' && like.backing
    ? `<backingStore><path>${escapeXml(like.backing.path)}</path><format type='${escapeXml(like.backing.format)}'/></backingStore>` : '';
  const mode = like.mode ? `<permissions><mode>${escapeXml(like.mode)}</mode></permissions>` : '';
  return `<volume type='file'><name>${escapeXml(basename(path))}</name><capacity unit='bytes'>${like.capacity}</capacity>`
    + `${format === 'raw' ? "<allocation unit='bytes'>0</allocation>" : ''}<target><format type='${format}'/>${mode}</target>${backing}</volume>`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

function isCode(err: unknown, codeName: string): boolean {
  return err instanceof LibvirtError && err.codeName === codeName;
}

/** The pools one carry looked through on one host; those it made are destroyed by `release`. */
export class HostVolumes {
  private readonly pools = new Map<string, StoragePool>();
  private readonly made: StoragePool[] = [];

  constructor(readonly conn: Connection) {}

  /**
   * The pool over `dir`: an existing pool (refreshed: files made outside libvirt), else a transient
   * one. `build`: make the directory if it is missing (else a missing one fails, as libvirt says).
   */
  async poolOver(dir: string, opts: { build?: boolean } = {}): Promise<StoragePool> {
    const known = this.pools.get(dir);
    if (known) return known;
    let pool: StoragePool;
    try {
      pool = await this.conn.lookupStoragePoolByTargetPath(dir);
      await pool.refresh();
    } catch (err) {
      if (!isCode(err, 'VIR_ERR_NO_STORAGE_POOL')) throw err;
      const name = `wimaxvm-carry-${randomBytes(4).toString('hex')}`;
      const xml = `<pool type='dir'><name>${name}</name><target><path>${escapeXml(dir)}</path><permissions><mode>0755</mode></permissions></target></pool>`;
      try {
        pool = await this.conn.createStoragePool(xml, { build: opts.build ?? false });
        this.made.push(pool);
      } catch (createErr) {
        // Another controller's carry made one over it meanwhile (a directory has one pool): use that one.
        pool = await this.conn.lookupStoragePoolByTargetPath(dir).catch(() => { throw createErr; });
      }
    }
    this.pools.set(dir, pool);
    return pool;
  }

  /** The volume at `path`, undefined when the host has no file there. `build`: as poolOver's, for its directory. */
  async volumeAt(path: string, opts: { build?: boolean } = {}): Promise<StorageVolume | undefined> {
    await this.poolOver(dirname(path), opts);
    try {
      return await this.conn.lookupStorageVolByPath(path);
    } catch (err) {
      if (isCode(err, 'VIR_ERR_NO_STORAGE_VOL')) return undefined;
      throw err;
    }
  }

  /** Destroys the transient pools this made (their files stay). */
  async release(): Promise<void> {
    await Promise.allSettled(this.made.splice(0).map((p) => p.destroy()));
    this.pools.clear();
  }
}
