// Image confinement on real files made by qemu-img: the one function `image import` and the
// controller's disks both use (src/images/confinement.ts), as a table of images a user might
// hand over, each refused or taken for the right reason.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { QemuImgDisks } from '../../src/adapters/qemu-img-disks.js';
import { checkImageChain, confinedImagePath, crossCheckChain } from '../../src/images/confinement.js';
import { qemuImg } from '../../src/images/qemu-img-info.js';
import { ImageError } from '../../src/ports/disk-images.js';

const base = mkdtempSync(join(tmpdir(), 'wimaxvm-confine-'));
const images = join(base, 'images');
const outside = join(base, 'outside');
const qemu = (...args: string[]) => execFileSync('qemu-img', ['create', '-q', ...args]);
const overlay = (name: string, backing: string, format = 'qcow2') => qemu('-f', 'qcow2', '-u', '-F', format, '-b', backing, join(images, name), '1M');

beforeAll(() => {
  mkdirSync(join(images, 'sub'), { recursive: true });
  mkdirSync(outside);
  qemu('-f', 'qcow2', join(outside, 'secret.qcow2'), '1M');
  writeFileSync(join(outside, 'secret.txt'), 'root:x:0:0\n');
  qemu('-f', 'qcow2', join(images, 'base.qcow2'), '1M');
  qemu('-f', 'raw', join(images, 'disk.raw'), '1M');
  qemu('-f', 'vmdk', join(images, 'disk.vmdk'), '1M');
  qemu('-f', 'qcow2', '-o', `data_file=${join(outside, 'data.bin')}`, join(images, 'datafile.qcow2'), '1M');
  writeFileSync(join(images, 'x.qcow2'), 'not an image\n');
  writeFileSync(join(images, 'notes'), 'not an image either\n');
  overlay('rel.qcow2', 'base.qcow2');
  overlay('abs.qcow2', join(images, 'base.qcow2'));
  overlay('sub/up.qcow2', '../base.qcow2');
  overlay('over-raw.qcow2', 'disk.raw', 'raw');
  overlay('out-abs.qcow2', join(outside, 'secret.qcow2'));
  overlay('out-rel.qcow2', '../outside/secret.qcow2');
  overlay('out-raw.qcow2', join(outside, 'secret.txt'), 'raw');
  overlay('json.qcow2', `json:{"driver":"raw","file":{"driver":"file","filename":"${join(outside, 'secret.txt')}"}}`, 'raw');
  overlay('json-inside.qcow2', `json:{"driver":"qcow2","file":{"driver":"file","filename":"${join(images, 'base.qcow2')}"}}`);
  overlay('nbd.qcow2', 'nbd://127.0.0.1:10809/x', 'raw');
  overlay('missing.qcow2', 'nothere.qcow2');
  symlinkSync(join(outside, 'secret.qcow2'), join(images, 'link-out.qcow2'));
  symlinkSync('base.qcow2', join(images, 'link-in.qcow2'));
  symlinkSync(join(outside, 'secret.qcow2'), join(images, 'back-link.qcow2'));
  overlay('via-link.qcow2', 'back-link.qcow2');
  overlay('deep2.qcow2', 'out-abs.qcow2'); // two deep: the bad file is the second backing file
  overlay('hidden-backing.qcow2', '.hidden.qcow2');
  qemu('-f', 'qcow2', join(images, '.hidden.qcow2'), '1M');
  overlay('loop-a.qcow2', 'loop-b.qcow2');
  overlay('loop-b.qcow2', 'loop-a.qcow2');
});

/** The image's fate: 'ok', or the ImageError's reason and message. */
async function fate(name: string): Promise<string> {
  try {
    const path = await confinedImagePath(images, name);
    const checked = await checkImageChain(images, path, qemuImg, { name });
    await crossCheckChain(images, path, qemuImg, checked, name);
    return `ok ${checked.layers.map((l) => l.format).join('>')}`;
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    return `${err.reason}: ${err.message}`;
  }
}

describe('image confinement (real qemu-img images)', () => {
  it.each([
    ['base.qcow2', /^ok qcow2$/],
    ['disk.raw', /^ok raw$/],
    ['rel.qcow2', /^ok qcow2>qcow2$/],
    ['abs.qcow2', /^ok qcow2>qcow2$/],
    ['sub/up.qcow2', /^ok qcow2>qcow2$/],
    ['over-raw.qcow2', /^ok qcow2>raw$/],
    ['link-in.qcow2', /^ok qcow2$/],
    ['../outside/secret.qcow2', /^ImageOutsideDirectory: .*"\.\."/],
    [join(outside, 'secret.qcow2'), /^ImageOutsideDirectory: .*absolute path/],
    ['link-out.qcow2', /^ImageOutsideDirectory: .*resolves outside the image directory/],
    ['nothere.qcow2', /^ImageNotFound: .*not found/],
    ['sub', /^ImageNotFound: .*not a regular file/],
    ['.hidden.qcow2', /^InvalidImageName: .*dot/],
    ['out-abs.qcow2', /^ImageOutsideDirectory: .*backing file ".*secret\.qcow2" is outside the image directory/],
    ['out-rel.qcow2', /^ImageOutsideDirectory: .*backing file "\.\.\/outside\/secret\.qcow2" is outside/],
    ['out-raw.qcow2', /^ImageOutsideDirectory: .*secret\.txt" is outside/],
    ['via-link.qcow2', /^ImageOutsideDirectory: .*backing file "back-link\.qcow2" is outside the image directory .*secret\.qcow2/],
    ['deep2.qcow2', /^ImageOutsideDirectory: .*secret\.qcow2" is outside .*\(backing file "out-abs\.qcow2"\)/],
    ['json.qcow2', /^ImageOutsideDirectory: .*json: or protocol specification/],
    ['json-inside.qcow2', /^ImageOutsideDirectory: .*json: or protocol specification/],
    ['nbd.qcow2', /^ImageOutsideDirectory: .*json: or protocol specification/],
    ['missing.qcow2', /^ImageNotFound: .*"nothere\.qcow2" does not exist/],
    ['hidden-backing.qcow2', /^ImageOutsideDirectory: .*not an image of the directory.*dot/],
    ['loop-a.qcow2', /^ImageRefused: .*loops at "loop-a\.qcow2"/],
    ['x.qcow2', /^ImageRefused: .*name says qcow2, but qemu-img reads it as raw/],
    ['notes', /^ImageRefused: .*not a whole number of 512-byte sectors/],
    ['disk.vmdk', /^ImageRefused: .*vmdk image: only qcow2 and raw/],
    ['datafile.qcow2', /^ImageRefused: .*external data files/],
  ])('%s: %s', async (name, expected) => {
    const said = await fate(name);
    if (process.env.SHOW_FATES) console.log(name, "=>", said);
    expect(said).toMatch(expected);
  });

  it('the controller\'s disks refuse the same images, and an overlay over a raw image names its format', async () => {
    const overlays = join(base, 'overlays');
    const disks = new QemuImgDisks(images, overlays);
    await expect(disks.resolveImage('out-rel.qcow2')).rejects.toMatchObject({ reason: 'ImageOutsideDirectory' });
    await expect(disks.resolveImage('json.qcow2')).rejects.toMatchObject({ reason: 'ImageOutsideDirectory' });
    await expect(disks.resolveImage('link-out.qcow2')).rejects.toMatchObject({ reason: 'ImageOutsideDirectory' });
    const raw = await disks.resolveImage('disk.raw');
    await disks.ensureOverlay('confine-vm', 0, raw);
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '--backing-chain', disks.overlayPath('confine-vm', 0, raw)], { encoding: 'utf8' }));
    expect(info.map((l: { format: string }) => l.format)).toEqual(['qcow2', 'raw']);
  });
});
