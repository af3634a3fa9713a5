// Carrying a cold-moved VM's overlay to a host without shared storage (LibvirtDiskCarrier: pools on
// both sides, the file created there, download piped into upload, sparse), against the raw libvirt
// tools doing the same work in the same run: `virsh vol-download --sparse` to a file, then
// `virsh vol-create-as` and `virsh vol-upload --sparse` on the other host. Source: the machine's
// libvirtd (qemu:///system); destination: a private libvirtd in a mount namespace of its own where
// the overlay directory is another directory (a host that does not see the source's files).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LibvirtDiskCarrier } from '../../src/adapters/libvirt/disk-carrier.js';
import { PrivateLibvirtd } from '../../test/helpers/private-libvirtd.js';
import type { Figure, Row } from '../lib/figure.js';

const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });
const ms = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

function ownDir(path: string): string {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o755);
  chownSync(path, 65534, 65534);
  return path;
}

export const figure: Figure = {
  name: 'disk-carry',
  title: 'A cold move carries an overlay to a host without shared storage: time against virsh vol-download + vol-upload',
  async run({ quick }): Promise<Row[]> {
    const mib = quick ? 64 : 256;
    const root = mkdtempSync(join(tmpdir(), 'wimaxvm-bench-carry-'));
    chmodSync(root, 0o755);
    const [images, overlays, bOverlays] = ['images', 'overlays', 'b-overlays'].map((d) => ownDir(join(root, d))) as [string, string, string];
    const base = join(images, 'base.qcow2');
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', base, '1G');
    const disk = (name: string): string => {
      const path = join(ownDir(join(overlays, name)), 'disk0.qcow2');
      sh('qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, path);
      sh('qemu-io', '-f', 'qcow2', '-c', `write -P 0x5a 0 ${mib}M`, '-c', 'write -P 0x11 800M 8M', path);
      return path;
    };
    const [ours, raw] = [disk('carried'), disk('raw')];
    const b = new PrivateLibvirtd({ storage: { [overlays]: bOverlays } });
    await b.start();
    const pools: [string, string][] = [];
    try {
      let t = process.hrtime.bigint();
      await new LibvirtDiskCarrier().carry({ host: 'system', uri: 'qemu:///system' }, { host: 'private', uri: b.uri }, [ours]);
      const carryMs = ms(t);

      // The raw tools need pools over the directories (as the carrier makes them): not timed.
      const pool = (uri: string, dir: string): void => {
        const name = `wimaxvm-bench-${pools.length}-${process.pid}`;
        sh('virsh', '-c', uri, '-q', 'pool-create-as', name, 'dir', '--target', dir, '--build');
        pools.push([uri, name]);
      };
      pool('qemu:///system', join(overlays, 'raw'));
      pool(b.uri, join(overlays, 'raw'));
      pool(b.uri, images);
      const file = join(root, 'downloaded.qcow2');
      t = process.hrtime.bigint();
      sh('virsh', '-c', 'qemu:///system', 'vol-download', '--sparse', raw, file);
      sh('virsh', '-c', b.uri, '-q', 'vol-create-as', pools[1]![1], 'disk0.qcow2', '1G', '--format', 'qcow2', '--backing-vol', base, '--backing-vol-format', 'qcow2');
      sh('virsh', '-c', b.uri, 'vol-upload', '--sparse', raw, file);
      const rawMs = ms(t);
      return [{
        id: 'disk-carry', label: `carry a qcow2 overlay with ${mib} MiB of data to a host that does not see it`, value: carryMs, unit: 'ms',
        baseline: rawMs, baselineLabel: 'virsh vol-download --sparse, vol-create-as, vol-upload --sparse',
        target: { on: 'ratio', op: '<=', limit: 1.5, text: '≤ 1.5× the virsh tools' },
        note: 'the carry includes opening both connections, the pools it makes and destroys, and the checks (destination file, base image); the virsh pools are made before its clock starts',
      }];
    } finally {
      for (const [uri, name] of pools.reverse()) {
        try { sh('virsh', '-c', uri, '-q', 'pool-destroy', name); } catch { /* gone */ }
      }
      await b.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  },
};
