// The seed image genisoimage makes (src/adapters/genisoimage-seeds.ts), read back with the real
// tools: blkid for its filesystem and label (what cloud-init's NoCloud looks for), isoinfo for
// its files through both Joliet and Rock Ridge names. Made only when its content changes, and
// removed with the domain's overlays through the deletion gate's permit.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenisoimageSeeds } from '../../src/adapters/genisoimage-seeds.js';
import { QemuImgDisks } from '../../src/adapters/qemu-img-disks.js';
import { DeletionGate } from '../../src/core/deletion-gate.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { noCloudSeed } from '../../src/seed/nocloud-seed.js';
import { FakeWitness } from '../fakes/fake-witness.js';

const base = mkdtempSync(join(tmpdir(), 'wimaxvm-seed-'));
const overlays = join(base, 'overlays');
const seeds = new GenisoimageSeeds(overlays);
const REQ = { domainName: 'vm30', hostname: 'box30', mac: '52:54:00:12:34:56', sshAuthorizedKeys: ['ssh-ed25519 AAAA k@lab'], address: { address: '10.9.0.30', prefixLength: 24, gateway: '10.9.0.1' } };

afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A file of the image as a guest's mount shows it: by its Joliet (-J) or Rock Ridge (-R) name. */
function isoFile(iso: string, names: '-J' | '-R', path: string): string {
  return execFileSync('isoinfo', ['-i', iso, names, '-x', path]).toString();
}

describe('the NoCloud seed image', () => {
  it('is an iso9660 volume labelled cidata holding meta-data, user-data and network-config as made', async () => {
    const seed = noCloudSeed(REQ);
    const path = await seeds.ensureSeed('vm30', seed);
    expect(path).toBe(seeds.seedPath('vm30'));
    expect(path).toBe(join(overlays, 'vm30', 'cidata.iso'));
    const probe = execFileSync('blkid', ['-p', '-o', 'export', path]).toString();
    expect(probe).toMatch(/^TYPE=iso9660$/m);
    expect(probe).toMatch(/^LABEL=cidata$/m);
    for (const names of ['-J', '-R'] as const) {
      const listing = execFileSync('isoinfo', ['-i', path, names, '-f']).toString().split('\n').filter(Boolean).sort();
      expect(listing).toEqual(['/meta-data', '/network-config', '/user-data']);
      for (const [name, text] of Object.entries(seed.files)) expect(isoFile(path, names, `/${name}`)).toBe(text);
    }
    // libvirtd's qemu user reads it.
    expect(statSync(path).mode & 0o004).toBe(0o004);
    expect(statSync(join(overlays, 'vm30')).mode & 0o005).toBe(0o005);
  });

  it('is made again only when its content changes', async () => {
    const path = seeds.seedPath('vm30');
    const before = statSync(path);
    await seeds.ensureSeed('vm30', noCloudSeed(REQ));
    expect(statSync(path).ino).toBe(before.ino);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
    const changed = noCloudSeed({ ...REQ, hostname: 'box31' });
    await seeds.ensureSeed('vm30', changed);
    expect(statSync(path).ino).not.toBe(before.ino); // a new file renamed in: a running guest keeps the old one
    expect(isoFile(path, '-J', '/meta-data')).toBe(changed.files['meta-data']);
    expect(isoFile(path, '-J', '/meta-data')).toMatch(/local-hostname: box31/);
  });

  it('leaves nothing else in the domain\'s folder but the image and its digest', () => {
    expect(execFileSync('ls', ['-A', join(overlays, 'vm30')]).toString().split('\n').filter(Boolean).sort()).toEqual(['cidata.digest', 'cidata.iso']);
  });

  it('a seed without an address has no network-config', async () => {
    const { address: _, ...noAddress } = REQ;
    const path = await seeds.ensureSeed('vm31', noCloudSeed({ ...noAddress, domainName: 'vm31' }));
    expect(execFileSync('isoinfo', ['-i', path, '-J', '-f']).toString().split('\n').filter(Boolean).sort()).toEqual(['/meta-data', '/user-data']);
  });

  it('goes with the domain\'s overlays, and only with the deletion gate\'s permit', async () => {
    const disks = new QemuImgDisks(join(base, 'images'), overlays);
    const witness = new FakeWitness();
    const gate = new DeletionGate(new DesiredStore(), () => witness, silentLogger);
    const other = gate.decide('VirtualMachine/default/vm31', 'vm31');
    if (!('permit' in other)) throw new Error('no permit');
    await expect(disks.removeOverlays('vm30', other.permit)).rejects.toThrow(/no deletion permit/);
    expect(existsSync(seeds.seedPath('vm30'))).toBe(true);
    const decision = gate.decide('VirtualMachine/default/vm30', 'vm30');
    if (!('permit' in decision)) throw new Error('no permit');
    await disks.removeOverlays('vm30', decision.permit);
    expect(existsSync(join(overlays, 'vm30'))).toBe(false);
    expect(readFileSync(seeds.seedPath('vm31')).length).toBeGreaterThan(0); // another domain's seed stays
  });
});
