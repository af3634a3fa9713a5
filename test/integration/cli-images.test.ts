// `wimaxvm image import|list|rm` on real images made with qemu-img, through the CLI: refusals
// leave nothing behind (no image, no temporary file), imports are whole and sparse, list and rm
// know which declared VMs use an image. The progress output is read from the built CLI, on a
// pseudo-terminal (script(1) from util-linux: node has no pty) and through a pipe.
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { importImage } from '../../src/images/image-import.js';
import { cli } from '../helpers/run-cli.js';
import { vmYaml } from '../helpers/harness.js';

const run = promisify(execFile);
const base = mkdtempSync(join(tmpdir(), 'wimaxvm-cli-images-'));
const src = join(base, 'src');
const images = join(base, 'images');
const vms = join(base, 'vms');
const outside = join(base, 'outside');
const MiB = 2 ** 20;
const qemu = (...args: string[]) => execFileSync('qemu-img', ['create', '-q', ...args]);
const imageFiles = () => readdirSync(images).sort();

beforeAll(() => {
  for (const d of [src, images, vms, outside]) mkdirSync(d);
  qemu('-f', 'qcow2', join(outside, 'secret.qcow2'), '1M');
  qemu('-f', 'qcow2', join(src, 'debian.qcow2'), '64M');
  qemu('-f', 'qcow2', '-u', '-F', 'qcow2', '-b', join(outside, 'secret.qcow2'), join(src, 'escape.qcow2'), '1M');
  qemu('-f', 'qcow2', '-u', '-F', 'raw', '-b', `json:{"driver":"raw","file":{"driver":"file","filename":"/etc/passwd"}}`, join(src, 'json.qcow2'), '1M');
  qemu('-f', 'qcow2', '-u', '-F', 'qcow2', '-b', 'debian.qcow2', join(src, 'child.qcow2'), '64M'); // relative: judged in the image directory
  // A raw disk of 64 MiB with 2 MiB of data: it must stay sparse.
  qemu('-f', 'raw', join(src, 'disk.raw'), '64M');
  execFileSync('dd', ['if=/dev/urandom', `of=${join(src, 'disk.raw')}`, 'bs=1M', 'count=2', 'seek=10', 'conv=notrunc', 'status=none']);
  writeFileSync(join(src, 'x.qcow2'), 'this is not a disk image\n');
  symlinkSync(join(src, 'debian.qcow2'), join(src, 'link.qcow2'));
});

const imp = (file: string, ...more: string[]) => cli('image', 'import', join(src, file), '--image-dir', images, ...more);

describe('wimaxvm image import', () => {
  it.each([
    ['escape.qcow2', [], /backing file ".*secret\.qcow2" is outside the image directory/],
    ['json.qcow2', [], /json: or protocol specification/],
    ['x.qcow2', [], /name says qcow2, but qemu-img reads it as raw/],
    ['debian.qcow2', ['--name', '../debian.qcow2'], /contains "\.\."/],
    ['debian.qcow2', ['--name', '.debian.qcow2'], /dot/],
    ['debian.qcow2', ['--name', 'a/debian.qcow2'], /contains "\/"/],
    ['child.qcow2', [], /backing file "debian\.qcow2" does not exist in the image directory/],
    ['nothere.qcow2', [], /no such file/],
  ])('%s %j is refused with exit 1 and nothing left in the image directory', async (file, more, message) => {
    const before = imageFiles();
    const r = await imp(file, ...more);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/^error: /);
    expect(r.code).toBe(1);
    expect(imageFiles()).toEqual(before);
  });

  it('imports qcow2 and raw whole, sparse, under their names; a relative backing file is judged in the image directory', async () => {
    expect(await imp('debian.qcow2')).toMatchObject({ code: 0, out: expect.stringMatching(/^image\/debian\.qcow2 imported \(qcow2, 64\.0MiB virtual/) });
    expect(await imp('disk.raw')).toMatchObject({ code: 0 });
    expect(statSync(join(images, 'disk.raw')).blocks * 512).toBeLessThan(8 * MiB); // 2 MiB of data, not 64
    expect(execFileSync('cmp', [join(src, 'disk.raw'), join(images, 'disk.raw')]).length).toBe(0);
    expect(await imp('child.qcow2')).toMatchObject({ code: 0 }); // its backing file debian.qcow2 is now an image
    // A symlink is read through: the image is a regular file with the link's content.
    expect(await imp('link.qcow2', '--name', 'linked.qcow2')).toMatchObject({ code: 0 });
    expect(statSync(join(images, 'linked.qcow2')).isFile()).toBe(true);
    expect(imageFiles()).toEqual(['child.qcow2', 'debian.qcow2', 'disk.raw', 'linked.qcow2']);
  });

  it('never replaces an image: the same name again is refused, the image kept', async () => {
    const before = readFileSync(join(images, 'disk.raw'));
    const r = await cli('image', 'import', join(src, 'debian.qcow2'), '--name', 'disk.raw', '--image-dir', images);
    expect(r).toMatchObject({ code: 1, err: expect.stringMatching(/an image named "disk\.raw" exists already/) });
    expect(readFileSync(join(images, 'disk.raw')).equals(before)).toBe(true);
  });

  it('a file that changes while it is copied is not imported', async () => {
    const growing = join(src, 'growing.raw');
    qemu('-f', 'raw', growing, '4M');
    let wrote = false;
    const error = await importImage({
      file: growing, imageDir: images,
      // After the first MiB: someone writes to the file.
      progress: () => ({ update: () => { if (!wrote) { wrote = true; appendFileSync(growing, Buffer.alloc(512, 1)); } }, finish: () => {}, abandon: () => {} }),
    }).catch((e) => e);
    expect(wrote).toBe(true);
    expect(error).toMatchObject({ reason: 'ImageChanged', message: expect.stringMatching(/changed while it was being copied: nothing was imported/) });
    expect(imageFiles()).not.toContain('growing.raw');
    expect(imageFiles().filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('an import stopped midway (Ctrl-C aborts it) leaves no image and no temporary file', async () => {
    const stop = new AbortController();
    const error = await importImage({
      file: join(src, 'disk.raw'), name: 'stopped.raw', imageDir: images, signal: stop.signal,
      progress: () => ({ update: () => stop.abort(), finish: () => {}, abandon: () => {} }),
    }).catch((e) => e);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(readdirSync(images).filter((f) => f.includes('stopped'))).toEqual([]);
  });
});

describe('wimaxvm image list and rm', () => {
  beforeAll(() => {
    writeFileSync(join(vms, 'vm-a.yaml'), vmYaml({ name: 'img-a', extra: '  disks:\n    - image: child.qcow2' }));
    writeFileSync(join(vms, 'vm-b.yaml'), vmYaml({ name: 'img-b', namespace: 'lab', extra: '  disks:\n    - image: disk.raw' }));
    symlinkSync(join(outside, 'secret.qcow2'), join(images, 'planted.qcow2')); // put there by hand: listed, refused
  });

  it('lists format, sizes and users (VMs, and images built on it)', async () => {
    const r = await cli('image', 'list', '--image-dir', images, '--dir', vms);
    expect(r.code).toBe(0);
    const rows = Object.fromEntries(r.out.trim().split('\n').slice(1).map((l) => [l.split(/\s+/)[0], l.split(/\s{3,}/)]));
    expect(r.out.split('\n')[0]).toMatch(/^NAME +FORMAT +VIRTUAL +ACTUAL +USED-BY$/);
    expect(rows['debian.qcow2']).toEqual(['debian.qcow2', 'qcow2', '64.0MiB', expect.stringMatching(/KiB$/), 'img-a,image/child.qcow2']);
    expect(rows['child.qcow2']!.at(-1)).toBe('img-a');
    expect(rows['disk.raw']!.slice(1)).toEqual(['raw', '64.0MiB', expect.stringMatching(/^2\.\dMiB$/), 'lab/img-b']);
    expect(rows['linked.qcow2']!.at(-1)).toBe('<none>');
    expect(rows['planted.qcow2']!.slice(1, 2)).toEqual(['<unknown> (refused)'.replace('<unknown>', 'unknown')]);
    const json = JSON.parse((await cli('image', 'list', '--image-dir', images, '--dir', vms, '-o', 'json')).out);
    expect(json.items.find((i: { name: string }) => i.name === 'planted.qcow2').refused).toMatch(/resolves outside the image directory/);
    expect(json.items.find((i: { name: string }) => i.name === 'debian.qcow2')).toMatchObject({ format: 'qcow2', virtualSize: 64 * MiB, usedBy: { vms: ['img-a'], images: ['child.qcow2'] } });
    const wide = await cli('image', 'list', '--image-dir', images, '--dir', vms, '-o', 'wide');
    expect(wide.out).toMatch(/^child\.qcow2 .* debian\.qcow2 +<none>$/m);
  });

  it('rm refuses an image in use, naming its users, and removes one nobody uses', async () => {
    const used = await cli('image', 'rm', 'debian.qcow2', '--image-dir', images, '--dir', vms);
    expect(used).toMatchObject({ code: 1, err: expect.stringContaining('image debian.qcow2 is in use by virtualmachine/img-a, image/child.qcow2 (its backing file)') });
    const raw = await cli('image', 'rm', 'disk.raw', '--image-dir', images, '--dir', vms);
    expect(raw).toMatchObject({ code: 1, err: expect.stringContaining('in use by virtualmachine/lab/img-b') });
    expect(await cli('image', 'rm', 'disk.raw', '--force', '--image-dir', images, '--dir', vms)).toMatchObject({ code: 2 }); // no --force
    expect(await cli('image', 'rm', 'linked.qcow2', '--image-dir', images)).toMatchObject({ code: 2, err: expect.stringMatching(/--dir DIR/) });
    expect(await cli('image', 'rm', 'linked.qcow2', '--image-dir', images, '--dir', vms)).toMatchObject({ code: 0, out: 'image/linked.qcow2 removed\n' });
    expect(imageFiles()).toEqual(['child.qcow2', 'debian.qcow2', 'disk.raw', 'planted.qcow2']);
  });
});

describe('import progress from the built CLI', () => {
  const big = join(src, 'big.raw');
  beforeAll(() => {
    execFileSync('dd', ['if=/dev/urandom', `of=${big}`, 'bs=1M', 'count=48', 'status=none']);
  });

  it('on a terminal: one bar redrawn in place, with bytes, rate and ETA, and a last line at 100 %', async () => {
    const cmd = `${process.execPath} bin/wimaxvm.js image import ${big} --name tty.raw --image-dir ${images}; echo "rc=$?"`;
    const { stdout } = await run('script', ['-qfec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } });
    expect(stdout).toMatch(/rc=0/);
    const draws = stdout.split('\r').filter((d) => d.startsWith('tty.raw '));
    expect(draws.length).toBeGreaterThanOrEqual(1);
    for (const d of draws) expect(d).toMatch(/^tty\.raw +\d+% \[[=> ]+\] [\d.]+[KMG]?i?B\/48\.0MiB {2}(-|[\d.]+[KMG]?i?B\/s) {2}ETA \S+\x1b\[K/);
    expect(draws.at(-1)).toMatch(/^tty\.raw 100% \[=+\] 48\.0MiB\/48\.0MiB .* ETA 0s\x1b\[K$/);
    expect(stdout).toContain('ETA 0s\x1b[K\r\n'); // then the line ends (the terminal's \r\n)
    expect(stdout).toMatch(/image\/tty\.raw imported \(raw, 48\.0MiB virtual, 48\.0MiB copied\)/);
  });

  it('through a pipe: plain lines, no carriage returns, none but the result on stdout', async () => {
    const { stdout, stderr } = await run(process.execPath, ['bin/wimaxvm.js', 'image', 'import', big, '--name', 'pipe.raw', '--image-dir', images], { encoding: 'utf8' });
    expect(stdout).toMatch(/^image\/pipe\.raw imported \(raw, 48\.0MiB virtual, 48\.0MiB copied\) into .*\n$/);
    expect(stderr).not.toContain('\r');
    const lines = stderr.trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(11); // each tenth at most (or 5 s), never a line per chunk
    for (const l of lines) expect(l).toMatch(/^pipe\.raw: \d+% \([\d.]+[KMG]?i?B of 48\.0MiB(, [\d.]+[KMG]?i?B\/s)?(, ETA \S+)?\)$/);
    expect(lines.at(-1)).toMatch(/^pipe\.raw: 100% \(48\.0MiB of 48\.0MiB, [\d.]+[KMG]?i?B\/s\)$/);
    const percents = lines.map((l) => Number(/: (\d+)%/.exec(l)![1]));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });
});
