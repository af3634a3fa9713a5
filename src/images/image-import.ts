// `wimaxvm image import`: a user's image file into the image directory, checked before the copy
// (so a refused image costs no copy) and again after it (the file may have changed meanwhile,
// and it is the copy that guests will use), then put in place atomically: a hidden temporary
// file in the directory, linked to its name only when whole and checked. No half image ever
// carries an image's name, and an existing image is never replaced.
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ImageError } from '../ports/disk-images.js';
import { checkImageChain, crossCheckChain } from './confinement.js';
import { copySparse } from './image-copy.js';
import { imageNameProblem } from './image-names.js';
import { qemuImg, type ImageInspector } from './qemu-img-info.js';

export interface ImportRequest {
  file: string;
  /** The image's name in the directory (default: the file's name). */
  name?: string;
  imageDir: string;
  inspector?: ImageInspector;
  /** Told the size once, then the bytes copied so far; finish() once whole. */
  progress?: (total: number) => { update(done: number): void; finish(done: number): void; abandon(): void };
  signal?: AbortSignal;
}

export interface Imported {
  name: string;
  path: string;
  format: string;
  virtualSize: number;
  bytes: number;
}

/** What tells a changed file from the one first looked at. */
function versionOf(s: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

export async function importImage(req: ImportRequest): Promise<Imported> {
  const inspector = req.inspector ?? qemuImg;
  const file = resolve(req.file);
  const name = req.name ?? basename(file);
  const problem = imageNameProblem(name);
  if (problem) throw new ImageError(`${problem}${req.name === undefined ? ' (choose one with --name)' : ''}`, 'InvalidImageName');
  const before = await stat(file).catch(() => undefined);
  if (!before) throw new ImageError(`${file}: no such file`, 'ImageNotFound');
  if (!before.isFile()) throw new ImageError(`${file} is not a regular file`, 'ImageRefused');

  const imageDir = resolve(req.imageDir);
  // libvirt's qemu user must reach the images: the directory is made searchable by all.
  await mkdir(imageDir, { recursive: true, mode: 0o755 });
  const dest = join(imageDir, name);
  const taken = () => new ImageError(`an image named ${JSON.stringify(name)} exists already in ${imageDir}: remove it first (wimaxvm image rm ${name}) or choose another --name`, 'AlreadyExists');
  if (await lstat(dest).catch(() => undefined)) throw taken();

  // Judged as if it were already in place: its relative backing file is looked for in the image directory.
  const first = await checkImageChain(imageDir, file, inspector, { judgedAt: dest, name });

  const temp = join(imageDir, `.${name}.import-${process.pid}-${randomBytes(4).toString('hex')}`);
  const progress = req.progress?.(before.size);
  let placed = false;
  try {
    const bytes = await copySparse(file, temp, (done) => progress?.update(done), req.signal);
    const after = await stat(file);
    if (versionOf(after) !== versionOf(before)) {
      throw new ImageError(`${file} changed while it was being copied: nothing was imported; import it again once it is no longer being written`, 'ImageChanged');
    }
    progress?.finish(bytes);
    const checked = await checkImageChain(imageDir, temp, inspector, { name });
    await crossCheckChain(imageDir, temp, inspector, checked, name);
    if (checked.layers[0]!.format !== first.layers[0]!.format) {
      throw new ImageError(`${file} read as ${first.layers[0]!.format} before the copy and as ${checked.layers[0]!.format} after it: nothing was imported`, 'ImageChanged');
    }
    // link() never replaces a file: an image of that name made meanwhile wins, and is kept.
    await link(temp, dest).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? taken() : err;
    });
    placed = true;
    await syncDir(imageDir);
    return { name, path: dest, format: checked.layers[0]!.format, virtualSize: checked.layers[0]!.virtualSize, bytes };
  } catch (err) {
    if (!placed) progress?.abandon();
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
}

/** The new name is on disk once the directory is synced, not only the data. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
