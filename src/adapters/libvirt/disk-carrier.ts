// The DiskCarrier on libvirt: a file the destination does not see is created there through its
// storage pool (same path, format, capacity and backing file) and filled with the source's bytes
// by virStorageVolDownload → virStorageVolUpload, holes kept. Connections of its own to both
// URIs, for the carry only (in Kubernetes mode the source node drives it, as it drives the move).
import { dirname } from 'node:path';
import { assertPermit, type DeletionPermit } from '../../core/deletion-gate.js';
import { DiskCarryError, type CarriedDisk, type CarrySide, type DiskCarrier } from '../../ports/disk-carrier.js';
import { openConnection, type Connection } from './native.js';
import { HostVolumes, newVolumeXml, volumeFacts } from './storage-volumes.js';

export class LibvirtDiskCarrier implements DiskCarrier {
  /** One carry at a time: two at once would share, and destroy under each other, the pool over a directory (the image directory). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly open: (uri: string) => Promise<Connection> = (uri) => openConnection(uri)) {}

  async carry(from: CarrySide, to: CarrySide, paths: readonly string[]): Promise<CarriedDisk[]> {
    // libvirt's test driver keeps no files: its guests' disks are names only, nothing to carry.
    if (isTestDriver(from.uri) || isTestDriver(to.uri)) return paths.map((path) => ({ path, copied: false, dataBytes: 0, holeBytes: 0 }));
    return this.withHosts([from, to], async ([source, destination]) => {
      const out: CarriedDisk[] = [];
      for (const path of paths) out.push(await carryOne(path, { ...from, volumes: source! }, { ...to, volumes: destination! }));
      return out;
    });
  }

  async unseen(to: CarrySide, paths: readonly string[]): Promise<string[]> {
    if (isTestDriver(to.uri)) return [];
    return this.withHosts([to], async ([destination]) => {
      const out: string[] = [];
      for (const path of paths) if (!(await destination!.volumeAt(path).catch(() => undefined))) out.push(path);
      return out;
    });
  }

  async removeCarried(from: CarrySide, to: CarrySide, domainName: string, paths: readonly string[], permit: DeletionPermit): Promise<string[]> {
    for (const path of paths) assertPermit(permit, domainName, { hostUri: from.uri, carriedDisk: path });
    return this.withHosts([from, to], async ([source, destination]) => {
      const removed: string[] = [];
      for (const path of paths) {
        const [here, there] = await Promise.all([source!.volumeAt(path), destination!.volumeAt(path)]);
        // Gone already, or the new host lost its copy: then this one is the guest's disk and stays.
        if (!here || !there) continue;
        assertPermit(permit, domainName, { hostUri: from.uri, carriedDisk: path }); // declared again since?
        await here.delete();
        removed.push(path);
      }
      return removed;
    });
  }

  private withHosts<T>(sides: CarrySide[], work: (volumes: HostVolumes[]) => Promise<T>): Promise<T> {
    const next = this.queue.then(() => this.onHosts(sides, work));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async onHosts<T>(sides: CarrySide[], work: (volumes: HostVolumes[]) => Promise<T>): Promise<T> {
    const conns = await Promise.all(sides.map((s) => this.open(s.uri)));
    const volumes = conns.map((c) => new HostVolumes(c));
    try {
      return await work(volumes);
    } finally {
      await Promise.allSettled(volumes.map((v) => v.release()));
      await Promise.allSettled(conns.map((c) => c.close()));
    }
  }
}

function isTestDriver(uri: string): boolean {
  return /^test(\+[a-z]+)?:/.test(uri);
}

type Side = CarrySide & { volumes: HostVolumes };

/**
 * Made next to a file while it is being carried, removed once it is whole: a carry cut short (the
 * controller killed mid-copy) leaves a file of the full size, which would otherwise pass for one
 * carried before. Our own half-written file: no guest uses it (the domain is defined there after).
 */
export function carryingMarker(path: string): string {
  return `${path}.wimaxvm-carrying`;
}

async function carryOne(path: string, from: Side, to: Side): Promise<CarriedDisk> {
  const source = await from.volumes.volumeAt(path);
  if (!source) throw new DiskCarryError(`${path} is not on ${from.host}: nothing to carry to ${to.host}`);
  const facts = volumeFacts(await source.getXmlDesc());
  let there = await to.volumes.volumeAt(path, { build: true });
  const cutShort = there && await to.volumes.volumeAt(carryingMarker(path));
  if (there && cutShort) {
    await there.delete();
    await cutShort.delete();
    there = undefined;
  }
  if (there) {
    // Shared storage, or carried before. Never overwritten; a different size is a copy cut short.
    const thereFacts = volumeFacts(await there.getXmlDesc());
    if (thereFacts.physical !== facts.physical || thereFacts.format !== facts.format) {
      throw new DiskCarryError(`${path} on ${to.host} (${thereFacts.format}, ${thereFacts.physical} bytes) differs from ${from.host}'s (${facts.format}, ${facts.physical} bytes): `
        + `not overwriting it (a copy cut short? remove it on ${to.host} and the move carries it again)`);
    }
    return { path, copied: false, dataBytes: 0, holeBytes: 0 };
  }
  if (facts.backing) await checkBase(facts.backing.path, from, to);
  const pool = await to.volumes.poolOver(dirname(path), { build: true });
  const marker = await pool.createVolume(newVolumeXml(carryingMarker(path), { format: 'raw', capacity: 0, physical: 0 }));
  const created = await pool.createVolume(newVolumeXml(path, facts));
  try {
    const moved = await source.transferTo(created, { sparse: true });
    await marker.delete(); // whole now
    return { path, copied: true, ...moved };
  } catch (err) {
    await created.delete().catch(() => undefined); // ours, half-written: no guest uses it
    await marker.delete().catch(() => undefined);
    throw err;
  }
}

/** The overlay's backing file must be at the destination already, the same image (copying base images is not the carrier's job). */
async function checkBase(path: string, from: Side, to: Side): Promise<void> {
  let there;
  try {
    there = await to.volumes.volumeAt(path);
  } catch (err) {
    throw new DiskCarryError(`base image ${path} is not on ${to.host}: ${(err as Error).message}`);
  }
  if (!there) throw new DiskCarryError(`base image ${path} is not on ${to.host}: put it there (the same image, at the same path) and the move goes on`);
  const here = await from.volumes.volumeAt(path);
  if (!here) return;
  const [a, b] = await Promise.all([here.getXmlDesc(), there.getXmlDesc()]).then((x) => x.map(volumeFacts));
  if (a!.format !== b!.format || a!.capacity !== b!.capacity) {
    throw new DiskCarryError(`base image ${path} on ${to.host} (${b!.format}, ${b!.capacity} bytes) is not ${from.host}'s (${a!.format}, ${a!.capacity} bytes)`);
  }
}
