// A cpio archive in the "newc" format the kernel unpacks as an initramfs, written directly so
// that owners, modes and device nodes need no root and no cpio binary.

export type CpioEntry =
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'file'; data: Buffer; mode?: number }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'chardev'; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

function record(ino: number, name: string, mode: number, data: Buffer, rdev: [number, number] = [0, 0]): Buffer {
  const nameBytes = Buffer.from(`${name}\0`);
  const fields = [ino, mode, 0, 0, mode & S_IFDIR ? 2 : 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`);
  return Buffer.concat([header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length)]);
}

/** The archive of `entries` (parents before children), owned by root, with the trailer. */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts = entries.map((e, i) => {
    const name = e.path.replace(/^\/+/, '');
    switch (e.type) {
      case 'dir': return record(i + 1, name, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0));
      case 'file': return record(i + 1, name, S_IFREG | (e.mode ?? 0o644), e.data);
      case 'symlink': return record(i + 1, name, S_IFLNK | 0o777, Buffer.from(e.target));
      case 'chardev': return record(i + 1, name, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), [e.major, e.minor]);
    }
  });
  return Buffer.concat([...parts, record(0, 'TRAILER!!!', 0, Buffer.alloc(0))]);
}
