// Image confinement: the one place that decides whether an image stays inside the image
// directory, for `wimaxvm image import` and for the controller's disks alike. An image is
// confined when its name is a path inside the directory, its real path (symlinks followed) is
// inside too, and every file of its backing chain is an image of the directory: a qcow2 whose
// backing file is /etc/shadow, ../other, a symlink out, or a json:/protocol spec would let a
// guest read what it must not.
import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ImageError } from '../ports/disk-images.js';
import { formatPromisedBy, imageNameProblem } from './image-names.js';
import type { ImageInfo, ImageInspector } from './qemu-img-info.js';

export const IMAGE_FORMATS = ['qcow2', 'raw'] as const;
/** Longer chains than this are refused: no real image needs them, and a loop must end. */
export const MAX_CHAIN = 16;

/** Whether `path` (a real path) is strictly inside `realRoot`. */
export function isInside(realRoot: string, path: string): boolean {
  const rel = relative(realRoot, path);
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel);
}

/** A backing spec written as a protocol or json: (anything with a scheme before the first "/"). */
export function isProtocolSpec(backing: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(backing);
}

/**
 * Where qemu looks for `backing` written in the image at `location`: relative to the image's
 * own folder, as qemu resolves it. A problem for a protocol or json: spec, which is not a file.
 */
export function backingLocation(location: string, backing: string): { path: string } | { problem: string } {
  if (isProtocolSpec(backing)) {
    return { problem: `its backing file ${JSON.stringify(truncate(backing))} is a json: or protocol specification, not a file of the image directory` };
  }
  return { path: resolve(dirname(location), backing) };
}

/** Why one layer's format is refused: only qcow2 and raw, no external data file, names kept. */
export function layerProblem(info: ImageInfo, sizeOnDisk: number | undefined, promised: 'qcow2' | 'raw' | undefined): string | undefined {
  if (!(IMAGE_FORMATS as readonly string[]).includes(info.format)) return `it is a ${info.format || 'unknown'} image: only qcow2 and raw images are taken`;
  if (promised && info.format !== promised) return `its name says ${promised}, but qemu-img reads it as ${info.format}`;
  if (info.dataFile !== undefined) return `it keeps its data in another file (${JSON.stringify(truncate(info.dataFile))}): external data files are not taken`;
  // A raw disk is whole sectors; a text file is not (qemu-img would call it a 512-byte raw disk).
  if (info.format === 'raw' && sizeOnDisk !== undefined && (sizeOnDisk === 0 || sizeOnDisk % 512 !== 0)) {
    return `qemu-img reads it as raw, but its size (${sizeOnDisk} bytes) is not a whole number of 512-byte sectors: it is not a disk image`;
  }
  return undefined;
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

async function realpathOrUndefined(path: string): Promise<string | undefined> {
  return realpath(path).catch(() => undefined);
}

/**
 * The real path of image `name` of `imageDir`, or an ImageError: a bad name, an absolute path,
 * `..`, a missing file, a symlink that leads out of the directory, or not a regular file.
 */
export async function confinedImagePath(imageDir: string, name: string): Promise<string> {
  const root = resolve(imageDir);
  const problem = imageNameProblem(name, { folders: true });
  if (problem) throw new ImageError(`${problem} (image directory ${root})`, name.startsWith('/') || name.includes('..') ? 'ImageOutsideDirectory' : 'InvalidImageName');
  const realRoot = await realpathOrUndefined(root);
  if (!realRoot) throw new ImageError(`the image directory ${root} does not exist`, 'ImageNotFound');
  const real = await realpathOrUndefined(resolve(root, name));
  if (!real) throw new ImageError(`disk image ${JSON.stringify(name)} not found in the image directory ${root}`, 'ImageNotFound');
  if (!isInside(realRoot, real)) throw new ImageError(`disk image ${JSON.stringify(name)} resolves outside the image directory ${root} (to ${real})`, 'ImageOutsideDirectory');
  const s = await stat(real);
  if (!s.isFile()) throw new ImageError(`disk image ${JSON.stringify(name)} is not a regular file`, 'ImageNotFound');
  return real;
}

export interface CheckedImage {
  /** The image and each file of its backing chain, in order. */
  layers: ImageInfo[];
}

/**
 * Checks the image at `path` and its whole backing chain against `imageDir`, one layer at a time
 * so that no file is opened before it is known to be inside. `judgedAt` is where the image is
 * judged to live (import checks a file before it is copied as if it were already in place);
 * `name` is the name it goes by, whose extension promises a format.
 */
export async function checkImageChain(imageDir: string, path: string, inspector: ImageInspector, opts: { judgedAt?: string; name?: string } = {}): Promise<CheckedImage> {
  const realRoot = await realpath(resolve(imageDir));
  const subject = JSON.stringify(opts.name ?? path);
  const refuse: (why: string, reason?: string) => never = (why, reason = 'ImageRefused') => {
    throw new ImageError(`image ${subject} refused: ${why}`, reason);
  };
  const layers: ImageInfo[] = [];
  const seen = new Set<string>([await realpath(resolve(path))]);
  let opened = resolve(path);
  let location = resolve(opts.judgedAt ?? path);
  for (;;) {
    if (layers.length >= MAX_CHAIN) refuse(`its backing chain is longer than ${MAX_CHAIN} files (or loops)`);
    const info = await inspector.info(opened).catch((err: Error) => refuse(err.message, 'ImageUnreadable'));
    const size = (await stat(opened).catch(() => undefined))?.size;
    const where = layers.length === 0 ? '' : ` (backing file ${JSON.stringify(relative(realRoot, opened))})`;
    const problem = layerProblem(info, size, layers.length === 0 ? formatPromisedBy(opts.name ?? path) : undefined);
    if (problem) refuse(problem + where);
    layers.push(info);
    if (info.backing === undefined) break;
    const next = backingLocation(location, info.backing);
    if ('problem' in next) refuse(next.problem + where, 'ImageOutsideDirectory');
    // qemu's own resolution must agree (it is what a guest would open), except for a file judged
    // elsewhere than it lies, whose relative backing qemu resolves where it lies.
    const qemuSays = opened === location && info.fullBacking !== undefined ? resolve(info.fullBacking) : next.path;
    for (const candidate of new Set([next.path, qemuSays])) {
      const real = await realpathOrUndefined(candidate);
      if (!real) refuse(`its backing file ${JSON.stringify(info.backing)} does not exist in the image directory${where}`, 'ImageNotFound');
      if (!isInside(realRoot, real)) refuse(`its backing file ${JSON.stringify(info.backing)} is outside the image directory ${realRoot} (it is ${real})${where}`, 'ImageOutsideDirectory');
      const nameProblem = imageNameProblem(relative(realRoot, real), { folders: true });
      if (nameProblem) refuse(`its backing file ${JSON.stringify(info.backing)} is not an image of the directory: ${nameProblem}${where}`, 'ImageOutsideDirectory');
      if (seen.has(real)) refuse(`its backing chain loops at ${JSON.stringify(relative(realRoot, real))}`);
      seen.add(real);
    }
    opened = next.path;
    location = next.path;
  }
  return { layers };
}

/**
 * qemu's own view of the chain (`--backing-chain`), read once every layer is known to be inside:
 * it must be the same files, all inside. A disagreement is refused, never explained away.
 */
export async function crossCheckChain(imageDir: string, path: string, inspector: ImageInspector, checked: CheckedImage, name?: string): Promise<void> {
  const realRoot = await realpath(resolve(imageDir));
  const chain = await inspector.chain(resolve(path)).catch((err: Error) => {
    throw new ImageError(`image ${JSON.stringify(name ?? path)} refused: ${err.message}`, 'ImageUnreadable');
  });
  const outside = [];
  for (const layer of chain.slice(1)) {
    const real = await realpathOrUndefined(resolve(dirname(resolve(path)), layer.filename));
    if (!real || !isInside(realRoot, real)) outside.push(layer.filename);
  }
  if (chain.length !== checked.layers.length || outside.length) {
    throw new ImageError(`image ${JSON.stringify(name ?? path)} refused: qemu-img's backing chain (${chain.map((l) => l.filename).join(' -> ')}) is not the one checked`, 'ImageOutsideDirectory');
  }
}
