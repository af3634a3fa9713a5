// The guest is built once per machine and set of inputs, into a cache that several test
// processes may fill at once: one builds under a lock file while the others wait, and the result
// appears by an atomic rename, so nobody ever sees half a build (even if a stale lock lets two
// build: the second rename finds the first one's result and drops its own).
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Where the guest's kernel .deb (scripts/install-deps.sh puts it there) and its builds live. */
export function realGuestCacheDir(): string {
  if (process.env.WIMAXVM_REAL_GUEST_CACHE) return process.env.WIMAXVM_REAL_GUEST_CACHE;
  if (process.getuid?.() === 0) return '/var/cache/wimaxvm/real-guest';
  return join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/tmp', '.cache'), 'wimaxvm', 'real-guest');
}

/** A short hash of files' names and contents, and of other facts given as text. */
export function hashInputs(paths: string[], facts: string[] = []): string {
  const hash = createHash('sha256');
  for (const path of paths) hash.update(`${path}\0`).update(readFileSync(path)).update('\0');
  for (const fact of facts) hash.update(`${fact}\0`);
  return hash.digest('hex').slice(0, 16);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock file (holding our pid) or says who holds it; a dead holder's lock is removed. */
function tryLock(lock: string): boolean {
  try {
    const fd = openSync(lock, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = Number(readFileSync(lock, 'utf8') || 'NaN');
  // An empty file is a lock being written this instant: not stale.
  if (Number.isInteger(holder) && !alive(holder)) rmSync(lock, { force: true });
  return false;
}

/**
 * The directory `<buildsDir>/<key>`, built by `build(emptyDir)` if it is not there yet. Waits
 * up to `timeoutMs` for another process's build of the same key.
 */
export async function cachedBuild(buildsDir: string, key: string, build: (dir: string) => Promise<void>, timeoutMs = 300_000): Promise<string> {
  const final = join(buildsDir, key);
  const lock = `${final}.lock`;
  mkdirSync(buildsDir, { recursive: true, mode: 0o755 });
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(final)) {
    if (tryLock(lock)) {
      try {
        if (!existsSync(final)) await buildInto(buildsDir, final, build);
      } finally {
        rmSync(lock, { force: true });
      }
      break;
    }
    if (Date.now() > deadline) throw new Error(`the real guest build ${final} is locked by ${lock} for longer than ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return final;
}

async function buildInto(buildsDir: string, final: string, build: (dir: string) => Promise<void>): Promise<void> {
  const tmp = mkdtempSync(join(buildsDir, '.building-'));
  try {
    await build(tmp);
    chmodSync(tmp, 0o755); // mkdtemp's 0700 would keep libvirt's qemu user from the image
    renameSync(tmp, final);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(final)) return; // someone else's build won the rename
    throw err;
  }
}
