// Copies an image file, keeping it sparse: a block of zeros is skipped (left a hole), so a 20 GiB
// raw disk with 1 GiB of data takes 1 GiB in the image directory too, as `cp --sparse` would.
import { open } from 'node:fs/promises';

const CHUNK = 1 << 20;

/** Whether every byte of `buf` is zero (compared a word at a time through a zero buffer). */
const ZEROS = Buffer.alloc(CHUNK);
function allZero(buf: Buffer): boolean {
  return buf.equals(ZEROS.subarray(0, buf.length));
}

/**
 * Copies `from` to `to` (created, never an existing file: O_EXCL), calling `onProgress` with the
 * bytes read so far, and syncs it to disk before returning. `signal` stops it between chunks.
 */
export async function copySparse(from: string, to: string, onProgress: (done: number) => void, signal?: AbortSignal): Promise<number> {
  const source = await open(from, 'r');
  try {
    // 0644: libvirt's qemu user reads images; nobody writes them.
    const target = await open(to, 'wx', 0o644);
    try {
      const buf = Buffer.allocUnsafe(CHUNK);
      let done = 0;
      for (;;) {
        signal?.throwIfAborted();
        const { bytesRead } = await source.read(buf, 0, CHUNK, done);
        if (bytesRead === 0) break;
        const chunk = buf.subarray(0, bytesRead);
        if (!allZero(chunk)) await target.write(chunk, 0, bytesRead, done);
        done += bytesRead;
        onProgress(done);
      }
      await target.truncate(done); // a trailing hole still counts in the size
      await target.sync();
      return done;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
