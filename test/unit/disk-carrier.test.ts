// LibvirtDiskCarrier's own logic over fake libvirt connections (the real calls are tested between
// two real libvirtds in test/system/disk-carry.test.ts): one carry at a time, because a directory
// has one storage pool per daemon and a carry destroys the transient pools it made, which another
// carry running at once would be using (its base image would look missing).
import { describe, expect, it } from 'vitest';
import { LibvirtDiskCarrier } from '../../src/adapters/libvirt/disk-carrier.js';
import type { Connection, StoragePool, StorageVolume } from '../../src/adapters/libvirt/native.js';
import { LibvirtError } from '../../src/adapters/libvirt/native.js';

const noVol = () => new LibvirtError({ message: 'no storage vol', code: 50, codeName: 'VIR_ERR_NO_STORAGE_VOL', domain: 18, domainName: 'VIR_FROM_STORAGE', level: 2, call: 'virStorageVolLookupByPath' });
const noPool = () => new LibvirtError({ message: 'no storage pool', code: 49, codeName: 'VIR_ERR_NO_STORAGE_POOL', domain: 18, domainName: 'VIR_FROM_STORAGE', level: 2, call: 'virStoragePoolLookupByTargetPath' });
const tick = () => new Promise((r) => setImmediate(r));

/** One host's files, by path; its pools live while it keeps them (a transient pool goes when destroyed). */
function fakeHost(files: Record<string, string>, open: { now: number; most: number }) {
  const pools = new Map<string, StoragePool>();
  const xml = (path: string) => files[path]!;
  const volume = (path: string): StorageVolume => ({
    name: path.split('/').at(-1)!, path, getXmlDesc: async () => xml(path), delete: async () => { delete files[path]; },
    transferTo: async (dest) => { for (let i = 0; i < 6; i++) await tick(); files[`copied:${dest.path}`] = path; return { dataBytes: 1, holeBytes: 0 }; },
  });
  const pool = (dir: string): StoragePool => ({
    name: dir, uuid: dir, refresh: async () => { await tick(); }, getXmlDesc: async () => '', destroy: async () => { pools.delete(dir); },
    createVolume: async () => { const path = `${dir}/disk0.qcow2`; files[path] = files[path] ?? VOL(); return volume(path); },
  });
  const conn = {
    uri: 'fake', close: async () => { open.now--; },
    lookupStoragePoolByTargetPath: async (dir: string) => { await tick(); const p = pools.get(dir); if (!p) throw noPool(); return p; },
    createStoragePool: async (x: string) => { await tick(); const dir = /<path>([^<]*)<\/path>/.exec(x)![1]!; if (pools.has(dir)) throw new Error('Storage source conflict'); pools.set(dir, pool(dir)); return pools.get(dir)!; },
    lookupStorageVolByPath: async (path: string) => {
      await tick();
      if (!pools.has(path.slice(0, path.lastIndexOf('/')))) throw noVol(); // libvirt finds files of active pools only
      if (!(path in files)) throw noVol();
      return volume(path);
    },
  };
  return () => { open.now++; open.most = Math.max(open.most, open.now); return conn as unknown as Connection; };
}

const VOL = (backing?: string) => `<volume><capacity>67108864</capacity><physical>196624</physical><target><format type='qcow2'/></target>${backing ? `<backingStore><path>${backing}</path><format type='qcow2'/></backingStore>` : ''}</volume>`;

describe('LibvirtDiskCarrier over fake connections', () => {
  it('runs one carry at a time: carries started while others run all find the base image at the destination', async () => {
    const open = { now: 0, most: 0 };
    const base = '/img/base.qcow2';
    const source = fakeHost({ [base]: VOL(), ...Object.fromEntries([1, 2, 3].map((i) => [`/ov/vm${i}/disk0.qcow2`, VOL(base)])) }, open);
    const destination = fakeHost({ [base]: VOL() }, open);
    const carrier = new LibvirtDiskCarrier(async (uri) => (uri === 'qemu+ssh://a/system' ? source() : destination()));
    const A = { host: 'a', uri: 'qemu+ssh://a/system' };
    const B = { host: 'b', uri: 'qemu+ssh://b/system' };
    // Started a little apart, as a drain's moves are: one carry ends (and destroys its pools) while the next looks.
    const results = await Promise.all([1, 2, 3].map(async (i) => {
      for (let t = 0; t < 10 * i; t++) await tick(); // 10 steps apart: without the one-at-a-time rule, carry 2 looks up the base image in the pool carry 1 just destroyed
      return carrier.carry(A, B, [`/ov/vm${i}/disk0.qcow2`]);
    }));
    expect(results.map((r) => r.map((c) => c.copied))).toEqual([[true], [true], [true]]);
    expect(open.most).toBe(2); // the two connections of one carry
  });
});
