// `qemu-img info --output=json` as a typed answer. One layer at a time: without --backing-chain
// qemu-img opens only the file named (never its backing file), so a backing file is looked at
// by us before anything opens it. `--backing-chain` is read only once every layer is known to
// be inside the image directory, as qemu's own view of the chain to compare with.
import { promisify } from 'node:util';
import { execFile } from '../observability/counted-child-process.js';

const run = promisify(execFile);

/** One image file as qemu-img sees it. */
export interface ImageInfo {
  /** The path qemu-img opened. */
  filename: string;
  format: string;
  virtualSize: number;
  actualSize: number;
  /** The backing file as written in the image (a path, relative or absolute, or a json:/protocol spec). */
  backing?: string;
  /** qemu's resolution of `backing` against the image's own location. */
  fullBacking?: string;
  backingFormat?: string;
  /** A qcow2 external data file: the image's data lives in that other file. */
  dataFile?: string;
}

/** Reads images without opening anything they name. */
export interface ImageInspector {
  /** The one file (its backing file unopened). */
  info(path: string): Promise<ImageInfo>;
  /** The file and its whole backing chain, as qemu opens it. */
  chain(path: string): Promise<ImageInfo[]>;
}

export class QemuImgInfoError extends Error {
  override readonly name = 'QemuImgInfoError';
}

type Raw = Record<string, unknown> & { 'format-specific'?: { data?: Record<string, unknown> } };

export function parseImageInfo(raw: Raw): ImageInfo {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const info: ImageInfo = {
    filename: String(raw.filename ?? ''),
    format: String(raw.format ?? ''),
    virtualSize: Number(raw['virtual-size'] ?? 0),
    actualSize: Number(raw['actual-size'] ?? 0),
  };
  const backing = str(raw['backing-filename']);
  if (backing !== undefined) info.backing = backing;
  const full = str(raw['full-backing-filename']);
  if (full !== undefined) info.fullBacking = full;
  const backingFormat = str(raw['backing-filename-format']);
  if (backingFormat !== undefined) info.backingFormat = backingFormat;
  const dataFile = str(raw['format-specific']?.data?.['data-file']);
  if (dataFile !== undefined) info.dataFile = dataFile;
  return info;
}

async function qemuImgInfo(args: string[], path: string): Promise<unknown> {
  try {
    // -U: an image a running guest has open is still readable (its base images are only read).
    const { stdout } = await run('qemu-img', ['info', '-U', '--output=json', ...args, '--', path], { maxBuffer: 4 << 20 });
    return JSON.parse(stdout);
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message?: string };
    if (e.code === 'ENOENT') throw new QemuImgInfoError('qemu-img is not installed (Debian: apt-get install qemu-utils)');
    const said = (e.stderr ?? e.message ?? '').trim().replace(/^qemu-img: /, '').replace(/\s*\n\s*/g, ' ');
    throw new QemuImgInfoError(`qemu-img cannot read ${path}: ${said}`);
  }
}

export const qemuImg: ImageInspector = {
  info: async (path) => parseImageInfo(await qemuImgInfo([], path) as Raw),
  chain: async (path) => (await qemuImgInfo(['--backing-chain'], path) as Raw[]).map(parseImageInfo),
};
