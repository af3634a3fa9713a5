// Carrying a VM's disk files to a host without shared storage, through libvirt (storage pools,
// virStorageVolDownload → virStorageVolUpload, sparse streams), between two real libvirtds.
// "Not shared" on one machine: hv-b's daemon runs in a mount namespace of its own where the
// overlay directory is another directory (b-overlays) at the same path, as a second host's disk
// would be; the image directory is shared (the base images are on both hosts), except one
// directory only hv-a sees (a base image missing on hv-b). No guest boots: qemu-img files.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carryingMarker, LibvirtDiskCarrier } from '../../src/adapters/libvirt/disk-carrier.js';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { DeletionGate } from '../../src/core/deletion-gate.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { moveDomain, type MoveHosts } from '../../src/hosts/domain-move.js';
import { DiskCarryError, type CarriedDisk } from '../../src/ports/disk-carrier.js';
import { buildDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually } from '../helpers/harness.js';
import { mountNamespacesEnabled, PrivateLibvirtd, privateLibvirtdEnabled } from '../helpers/private-libvirtd.js';
import { vmNamed } from '../helpers/vm-steps.js';

const enabled = privateLibvirtdEnabled() && mountNamespacesEnabled();
const run = Math.random().toString(36).slice(2, 6);
const NOBODY = 65534;
const MiB = 2 ** 20;

function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}

/** A directory the daemons (user nobody) may write. */
function ownDir(path: string): string {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o755);
  chownSync(path, NOBODY, NOBODY);
  return path;
}

/** A qcow2 overlay over `base` with `MiB` of data written at 1 MiB, owned by nobody (as the daemons' guests' files are). */
function overlay(path: string, base: string, pattern: number): string {
  sh('qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, path);
  sh('qemu-io', '-f', 'qcow2', '-c', `write -P ${pattern} 1M 3M`, path);
  chownSync(path, NOBODY, NOBODY);
  return path;
}

/** A raw file of 32 MiB with data in two places only: the rest holes. */
function sparseRaw(path: string): string {
  writeFileSync(path, '');
  sh('truncate', '-s', '32M', path);
  for (const seekMiB of ['0', '20']) sh('dd', 'if=/dev/urandom', `of=${path}`, 'bs=64K', 'count=1', `seek=${Number(seekMiB) * 16}`, 'conv=notrunc', 'status=none');
  chownSync(path, NOBODY, NOBODY);
  return path;
}

const allocated = (path: string): number => statSync(path).blocks * 512;

describe.runIf(enabled)('carrying disk files between two real libvirtds without shared storage', () => {
  const root = mkdtempSync(join(tmpdir(), `wimaxvm-carry-${run}-`));
  const images = join(root, 'images');
  const onlyA = join(root, 'only-a-images');
  const overlays = join(root, 'overlays');          // where every overlay path points
  const bOverlays = join(root, 'b-overlays');       // what hv-b finds there
  const a = new PrivateLibvirtd({ hostUuid: randomUUID() });
  const b = new PrivateLibvirtd({ hostUuid: randomUUID(), storage: { [overlays]: bOverlays, [onlyA]: join(root, 'b-empty') } });
  const A = { host: `hv-a-${run}`, uri: a.uri };
  const B = { host: `hv-b-${run}`, uri: b.uri };
  const carrier = new LibvirtDiskCarrier();
  /** The file hv-b holds at a path of the overlay directory. */
  const onB = (path: string): string => path.replace(overlays, bOverlays);
  let base: string;

  beforeAll(async () => {
    chmodSync(root, 0o755);
    for (const d of [images, onlyA, overlays, bOverlays, join(root, 'b-empty')]) ownDir(d);
    base = join(images, 'base.qcow2');
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', base, '64M');
    sh('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x11 0 8M', base);
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', join(onlyA, 'base2.qcow2'), '64M');
    await Promise.all([a.start(), b.start()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a.dispose(), b.dispose()]);
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('copies an overlay and a sparse file: byte for byte, the qcow2 backing file kept, holes kept', async () => {
    const dir = ownDir(join(overlays, `vm-${run}`));
    const disk = overlay(join(dir, 'disk0.qcow2'), base, 0x5a);
    const raw = sparseRaw(join(dir, 'data.raw'));
    expect(existsSync(onB(disk))).toBe(false); // hv-b does not see hv-a's files

    const carried = await carrier.carry(A, B, [disk, raw]);

    expect(carried.map((c) => [c.path, c.copied])).toEqual([[disk, true], [raw, true]]);
    for (const path of [disk, raw]) expect(readFileSync(onB(path)).equals(readFileSync(path)), path).toBe(true);
    const info = JSON.parse(sh('qemu-img', 'info', '--output=json', '-U', onB(disk))) as { format: string; 'backing-filename': string; 'backing-filename-format': string; 'virtual-size': number };
    expect([info.format, info['backing-filename'], info['backing-filename-format'], info['virtual-size']]).toEqual(['qcow2', base, 'qcow2', 64 * MiB]);
    // The guest's view through the copy: hv-a's data over the base's.
    expect(sh('qemu-io', '-f', 'qcow2', '-r', '-c', 'read -P 0x5a 1M 3M', '-c', 'read -P 0x11 5M 3M', onB(disk))).not.toMatch(/Pattern verification failed/);
    // Sparse: 128 KiB of data went, the 32 MiB file's holes went as lengths and are holes there.
    const rawCarry = carried[1]!;
    expect(rawCarry.dataBytes + rawCarry.holeBytes).toBe(32 * MiB);
    expect(rawCarry.holeBytes).toBeGreaterThan(30 * MiB);
    expect(allocated(onB(raw))).toBeLessThan(4 * MiB);
    console.log(`carried ${carried.map((c) => `${c.path.slice(root.length)}: ${c.dataBytes} data + ${c.holeBytes} hole bytes`).join('; ')}; hv-b's copy of the raw file allocates ${allocated(onB(raw))} of ${statSync(onB(raw)).size} bytes`);
  });

  it('carries at once (a drain moves several VMs) share the pools over one directory: each arrives', async () => {
    const disks = [1, 2, 3].map((i) => overlay(join(ownDir(join(overlays, `many-${run}-${i}`)), 'disk0.qcow2'), base, 0x20 + i));
    const results = await Promise.all(disks.map((d) => carrier.carry(A, B, [d])));
    expect(results.map((r) => r.map((c) => c.copied))).toEqual([[true], [true], [true]]);
    for (const d of disks) expect(readFileSync(onB(d)).equals(readFileSync(d)), d).toBe(true);
  });

  it('a file the destination sees already is left as it is: nothing copied, nothing overwritten', async () => {
    const dir = ownDir(join(overlays, `seen-${run}`));
    const disk = overlay(join(dir, 'disk0.qcow2'), base, 0x77);
    // hv-b holds a file at that path already, of the same size, with other bytes (as a copy made before would be).
    ownDir(join(bOverlays, `seen-${run}`));
    const theirs = Buffer.from(readFileSync(disk)).fill(0x42, 4 * 65536);
    writeFileSync(onB(disk), theirs);
    const before = statSync(onB(disk));

    expect(await carrier.carry(A, B, [disk])).toEqual([{ path: disk, copied: false, dataBytes: 0, holeBytes: 0 } satisfies CarriedDisk]);
    expect(readFileSync(onB(disk)).equals(theirs)).toBe(true);
    expect([statSync(onB(disk)).ino, statSync(onB(disk)).mtimeMs]).toEqual([before.ino, before.mtimeMs]);

    // One of another size is a copy cut short, or another file: refused, and still not touched.
    const short = theirs.subarray(0, 65536);
    writeFileSync(onB(disk), short);
    await expect(carrier.carry(A, B, [disk])).rejects.toThrow(new RegExp(`${disk} on ${B.host} \\(qcow2, 65536 bytes\\) differs from ${A.host}'s .*not overwriting it`));
    expect(readFileSync(onB(disk)).equals(short)).toBe(true);

    // Shared storage: both daemons see the image directory, so its files are not copied either.
    const baseBefore = statSync(base).mtimeMs;
    expect(await carrier.carry(A, B, [base])).toEqual([{ path: base, copied: false, dataBytes: 0, holeBytes: 0 }]);
    expect(statSync(base).mtimeMs).toBe(baseBefore);
  });

  it('a carry cut short (its marker left next to a full-size file) is carried again: the half-written file is replaced, the marker goes', async () => {
    const dir = ownDir(join(overlays, `cut-${run}`));
    const disk = overlay(join(dir, 'disk0.qcow2'), base, 0x3d);
    // As a controller killed mid-copy leaves it on hv-b: the file at its full size, not all of it written, and the marker.
    ownDir(join(bOverlays, `cut-${run}`));
    const half = Buffer.from(readFileSync(disk)).fill(0, 2 * 65536);
    writeFileSync(onB(disk), half);
    writeFileSync(onB(carryingMarker(disk)), '');
    for (const f of [onB(disk), onB(carryingMarker(disk))]) chownSync(f, NOBODY, NOBODY);

    const [carried] = await carrier.carry(A, B, [disk]);
    expect(carried).toMatchObject({ path: disk, copied: true });
    expect(readFileSync(onB(disk)).equals(readFileSync(disk))).toBe(true);
    expect(existsSync(onB(carryingMarker(disk)))).toBe(false);
    // A whole carry leaves no marker: the next one copies nothing.
    expect(await carrier.carry(A, B, [disk])).toEqual([{ path: disk, copied: false, dataBytes: 0, holeBytes: 0 }]);
  });

  it("a base image hv-b lacks: a clear error naming it, and nothing written on hv-b", async () => {
    const dir = ownDir(join(overlays, `nobase-${run}`));
    const disk = overlay(join(dir, 'disk0.qcow2'), join(onlyA, 'base2.qcow2'), 0x33);
    const err = await carrier.carry(A, B, [disk]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskCarryError);
    expect((err as Error).message).toBe(`base image ${join(onlyA, 'base2.qcow2')} is not on ${B.host}: put it there (the same image, at the same path) and the move goes on`);
    expect(existsSync(onB(disk))).toBe(false);
  });

  /** A guest defined on hv-a with one overlay (filled with `fill`), both hosts' ports, and a gate that knows the VM; `use` runs with them, the ports are closed after. */
  async function withGuestOnA(name: string, fill: number, use: (g: { disk: string; dir: string; ports: Record<string, LibvirtHypervisor>; key: string; gate: DeletionGate; hosts: MoveHosts }) => Promise<void>): Promise<void> {
    const dir = ownDir(join(overlays, name));
    const disk = overlay(join(dir, 'disk0.qcow2'), base, fill);
    const ports = { [A.host]: new LibvirtHypervisor({ uri: a.uri, logger: silentLogger }), [B.host]: new LibvirtHypervisor({ uri: b.uri, logger: silentLogger }) };
    await Promise.all(Object.values(ports).map((p) => p.connect()));
    try {
      const mac = `52:54:00:${fill.toString(16).padStart(2, '0')}:00:01`;
      await ports[A.host]!.define(buildDomainXml({
        name, uuid: randomUUID(), type: 'qemu', memoryKiB: 65536, vcpus: 1, diskPaths: [disk], mac, nic: { type: 'user' },
        owner: { uid: randomUUID(), namespace: 'default', name, generation: 1, specHash: 'test', mac },
      }));
      const store = new DesiredStore();
      const key = `VirtualMachine/default/${name}`;
      store.set(key, vmNamed(name));
      const hosts: MoveHosts = {
        portOf: (host) => ports[host]!, uriOf: (host) => (host === A.host ? A.uri : B.uri),
        isPersistent: (n, host) => ports[host]!.isPersistent(n),
        migrateLive: () => Promise.reject(new Error('not running: a cold move')),
        disks: carrier,
      };
      await use({ disk, dir, ports, key, gate: new DeletionGate(store, () => undefined, silentLogger), hosts });
    } finally {
      await Promise.all(Object.values(ports).map((p) => p.close()));
    }
  }

  it("moveDomain: a running guest is not moved live to a host that does not see its disks; stopped, it moves cold with its overlay carried, and hv-a's copy goes with the move's permit", async () => {
    const name = `carry-${run}`;
    await withGuestOnA(name, 0x6b, async ({ disk, dir, ports, key, gate, hosts }) => {
      // Running, it would move live, which keeps its disks where they are: hv-b does not see them, so it stays, running, on hv-a.
      await ports[A.host]!.start(name);
      await expect(moveDomain({ key, domainName: name, from: A.host, to: B.host }, hosts, gate, { moved: () => undefined }))
        .rejects.toThrow(`${name} is running and ${B.host} does not see its disk files (${disk}): a running guest moves live only where both hosts see them`);
      expect([a.runningIds().has(name), b.virsh('list', '--all', '--name').includes(name), existsSync(onB(disk))]).toEqual([true, false, false]);
      await ports[A.host]!.destroy(name);
      await eventually(async () => (await ports[A.host]!.getDomain(name, true))?.state === 'shutoff', `${name} shut off on hv-a`, 30_000);
      const bytes = readFileSync(disk); // as the guest left it

      const seen: CarriedDisk[][] = [];
      expect(await moveDomain({ key, domainName: name, from: A.host, to: B.host }, hosts, gate, { moved: () => undefined, carried: (d) => seen.push(d) })).toBe('cold');

      expect(existsSync(onB(disk)) && readFileSync(onB(disk)).equals(bytes)).toBe(true); // hv-b's guest has its disk
      expect(seen).toEqual([[expect.objectContaining({ path: disk, copied: true })]]);
      expect(b.virsh('domstate', name).trim()).toBe('shut off');
      expect(b.virsh('domblklist', name)).toContain(disk);
      expect(a.virsh('list', '--all', '--name')).not.toContain(name);
      expect(existsSync(disk)).toBe(false);                      // hv-a's copy went with its definition
      expect(readdirSync(dir)).toEqual([]);
    });
  });

  it('stop, move the overlay, start: a running guest that may be stopped (mayStop, a stop timeout) is stopped on hv-a (powered off: no OS takes the ACPI request), carried, defined on hv-b; one copy', async () => {
    const name = `stopmove-${run}`;
    await withGuestOnA(name, 0x5c, async ({ disk, ports, key, gate, hosts }) => {
      await ports[A.host]!.start(name);
      const said: string[][] = [];
      expect(await moveDomain({ key, domainName: name, from: A.host, to: B.host, mayStop: true }, { ...hosts, stopTimeoutMs: 1000 }, gate, { moved: () => undefined, stopping: (u) => said.push(u) })).toBe('cold');
      expect(said).toEqual([[disk]]);
      expect(b.virsh('domstate', name).trim()).toBe('shut off');
      expect(existsSync(onB(disk))).toBe(true);
      expect(a.virsh('list', '--all', '--name')).not.toContain(name);
      await ports[B.host]!.start(name); // what its runStrategy does at the destination
      expect(b.runningIds().has(name)).toBe(true);
    });
  });
});
