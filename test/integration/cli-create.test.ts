// `wimaxvm create` in file mode, end to end: an image imported with `image import`, a VM declared
// with `create`, and the real controller (file-mode harness, libvirt's test driver) running it on
// an overlay of that image. A hand-planted image whose backing file leaves the image directory
// stops its VM at the same confinement `image import` applies.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/run-cli.js';
import { eventually, Harness } from '../helpers/harness.js';

describe('wimaxvm create (file mode), then the controller runs it', () => {
  let h: Harness;
  let images: string;

  beforeAll(async () => {
    h = await Harness.create();
    images = join(h.dir, '..', 'images');
    const outside = join(h.dir, '..', 'outside');
    mkdirSync(outside);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(outside, 'debian.qcow2'), '32M']);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(outside, 'secret.qcow2'), '1M']);
    h.flags = { 'image-dir': images };
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('writes the declaration, refuses a second one, and the controller runs it over the imported image', async () => {
    expect(await cli('image', 'import', join(h.dir, '..', 'outside', 'debian.qcow2'), '--image-dir', images)).toMatchObject({ code: 0 });
    const dry = await cli('create', 'vm40', '--image', 'debian.qcow2', '--memory', '64Mi', '--vcpus', '1', '--hours', '2', '--dry-run', '-o', 'yaml');
    expect(dry).toMatchObject({ code: 0, out: expect.stringContaining('lease:\n    duration: 2h\n') });
    expect(readdirSync(h.dir)).toEqual([]); // a dry run declares nothing

    const made = await cli('create', 'vm40', '--image', 'debian.qcow2', '--memory', '64Mi', '--vcpus', '1', '--hours', '2', '--dir', h.dir, '--image-dir', images);
    expect(made).toMatchObject({ code: 0, out: 'virtualmachine.wimaxvm.io/vm40 created\n', err: '' });
    expect(readdirSync(h.dir)).toEqual(['virtualmachine-default-vm40.yaml']);
    const text = readFileSync(join(h.dir, 'virtualmachine-default-vm40.yaml'), 'utf8');
    expect(text).toMatch(/disks:\n {4}- image: debian\.qcow2\n/);

    const again = await cli('create', 'vm40', '--image', 'other.qcow2', '--memory', '128Mi', '--vcpus', '2', '--dir', h.dir, '--image-dir', images);
    expect(again).toMatchObject({ code: 1, err: expect.stringMatching(/Conflict.*vm40 is already declared/) });
    expect(readFileSync(join(h.dir, 'virtualmachine-default-vm40.yaml'), 'utf8')).toBe(text);
    expect(await cli('create', 'vm41', '--memory', '64Mi', '--vcpus', '1', '--image', 'debian.qcow2')).toMatchObject({ code: 2, err: expect.stringMatching(/--dir DIR/) });

    await h.start();
    await h.waitForStatus('vm40', 'Running');
    const overlay = (await h.domain('vm40'))!.parsed.facts.diskPaths[0]!;
    const chain = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '--backing-chain', overlay], { encoding: 'utf8' }));
    expect(chain.map((l: { filename: string }) => l.filename)).toEqual([overlay, join(images, 'debian.qcow2')]);
  });

  it('a planted image whose backing file leaves the image directory: Stalled, never defined', async () => {
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-F', 'qcow2', '-b', '../outside/secret.qcow2', join(images, 'planted.qcow2'), '1M']);
    symlinkSync(join(h.dir, '..', 'outside', 'secret.qcow2'), join(images, 'linked.qcow2'));
    for (const [name, image] of [['vm42', 'planted.qcow2'], ['vm43', 'linked.qcow2']]) {
      expect(await cli('create', name!, '--image', image!, '--memory', '64Mi', '--vcpus', '1', '--dir', h.dir, '--image-dir', images)).toMatchObject({ code: 0 });
    }
    const stalled = (name: string) => eventually(() => h.status(name)?.conditions.find((c) => c.type === 'Stalled' && c.status === 'True'), `${name} Stalled`);
    expect(await stalled('vm42')).toMatchObject({ reason: 'ImageOutsideDirectory', message: expect.stringMatching(/backing file "\.\.\/outside\/secret\.qcow2" is outside the image directory/) });
    expect(await stalled('vm43')).toMatchObject({ reason: 'ImageOutsideDirectory', message: expect.stringMatching(/resolves outside the image directory/) });
    expect(await h.domain('vm42')).toBeUndefined();
    expect(await h.domain('vm43')).toBeUndefined();
  });
});
