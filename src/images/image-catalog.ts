// The images of the image directory as `image list` shows them: each file (sub-folders too,
// hidden files and import's temporary files left out) with what qemu-img says of it, and
// whether confinement takes it (an image put there by hand may not be one the controller uses).
import { lstat, readdir, realpath } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { ImageError } from '../ports/disk-images.js';
import { checkImageChain, confinedImagePath } from './confinement.js';
import { qemuImg, type ImageInspector } from './qemu-img-info.js';
import type { CatalogEntry } from './image-usage.js';

export interface ImageEntry extends CatalogEntry {
  format?: string;
  virtualSize?: number;
  actualSize?: number;
  /** The backing file as written in the image. */
  backing?: string;
  /** Why the controller would not use it (confinement's message), if it would not. */
  refused?: string;
}

/** Image names under `dir`: every non-hidden file or symlink, depth first, sorted. */
async function namesUnder(root: string, dir = root): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) names.push(...await namesUnder(root, path));
    else if (e.isFile() || e.isSymbolicLink()) names.push(relative(root, path));
  }
  return names;
}

export async function listImages(imageDir: string, inspector: ImageInspector = qemuImg): Promise<ImageEntry[]> {
  const root = resolve(imageDir);
  const names = await namesUnder(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new ImageError(`the image directory ${root} does not exist (import an image to make it, or name it with --image-dir)`, 'ImageNotFound');
    throw err;
  });
  // A few qemu-img processes at a time, not one per image at once.
  const entries: ImageEntry[] = new Array(names.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < names.length; i = next++) entries[i] = await describeImage(root, names[i]!, inspector);
  };
  await Promise.all(Array.from({ length: Math.min(4, names.length) }, worker));
  return entries;
}

export async function describeImage(root: string, name: string, inspector: ImageInspector): Promise<ImageEntry> {
  const entry: ImageEntry = { name, symlink: (await lstat(join(root, name))).isSymbolicLink() };
  try {
    const real = await confinedImagePath(root, name);
    entry.realPath = real;
    const first = await inspector.info(real).catch(() => undefined);
    if (first) Object.assign(entry, { format: first.format, virtualSize: first.virtualSize, actualSize: first.actualSize, ...(first.backing !== undefined ? { backing: first.backing } : {}) });
    const { layers } = await checkImageChain(root, real, inspector, { name });
    entry.chain = await Promise.all(layers.slice(1).map((l) => realpath(l.filename).catch(() => l.filename)));
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    entry.refused = err.message;
  }
  return entry;
}
